#!/usr/bin/env python3
"""Builds the tiny test checkpoints under tests/models/ and their reference outputs.

Run by hand (needs torch, transformers and numpy), never by the test suite; its results are
committed. Every model is random from a fixed seed, small enough to keep in the repository:

  bert/   BertModel: last hidden state, mean-pooled and l2-normalized embedding (inputs padded)
  roberta/ RobertaModel (positions from padding_idx + 1, one token type): last hidden state
  gpt2/   GPT2LMHeadModel (tied lm_head): prompt logits, greedy continuation
  llama/  LlamaForCausalLM, grouped K/V heads, untied lm_head, saved in shards with an index:
          prompt logits, greedy continuation

Each folder gets the checkpoint (config.json, *.safetensors) and ref/*.npy: the inputs and the
outputs of transformers in float32.
"""
import os
import sys

import numpy as np
import torch
import transformers

HERE = os.path.dirname(os.path.abspath(__file__))
NEW_TOKENS = 8


def save(folder, name, array):
    os.makedirs(os.path.join(folder, "ref"), exist_ok=True)
    np.save(os.path.join(folder, "ref", name + ".npy"), np.ascontiguousarray(array))


def perturb(model):
    """transformers initializes biases to 0 and norm gains to 1, where a graph that drops one
    would still match; random values make every tensor count."""
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if name.endswith("bias"):
                parameter.normal_(0.0, 0.1)
            elif parameter.dim() == 1:
                parameter.copy_(1.0 + 0.1 * torch.randn_like(parameter))


def tidy(folder):
    """Leaves only what the tests use: no generation_config.json, no stale shards."""
    for name in os.listdir(folder):
        if name.endswith(".safetensors") or name.endswith(".json"):
            os.remove(os.path.join(folder, name))


def start(name, seed):
    """The model's folder, emptied of an earlier checkpoint, with torch seeded."""
    folder = os.path.join(HERE, name)
    os.makedirs(folder, exist_ok=True)
    tidy(folder)
    torch.manual_seed(seed)
    return folder


def bert():
    folder = start("bert", 1)
    config = transformers.BertConfig(vocab_size=120, hidden_size=32, num_hidden_layers=2,
                                     num_attention_heads=4, intermediate_size=64,
                                     max_position_embeddings=64, type_vocab_size=2,
                                     initializer_range=0.2)
    model = transformers.BertModel(config, add_pooling_layer=False).eval()
    perturb(model)
    model.save_pretrained(folder, safe_serialization=True)
    ids = torch.tensor([[2, 17, 33, 5, 90, 64, 11, 3], [2, 45, 8, 119, 3, 0, 0, 0]],
                       dtype=torch.int32)
    mask = torch.tensor([[1] * 8, [1] * 5 + [0] * 3], dtype=torch.int32)
    types = torch.tensor([[0, 0, 0, 0, 1, 1, 1, 1], [0, 0, 1, 1, 1, 0, 0, 0]], dtype=torch.int32)
    with torch.no_grad():
        h = model(input_ids=ids.long(), attention_mask=mask.long(),
                  token_type_ids=types.long()).last_hidden_state
    m = mask.to(h.dtype).unsqueeze(-1)
    pooled = (h * m).sum(1) / m.sum(1)
    normalized = torch.nn.functional.normalize(pooled, p=2, dim=-1, eps=1e-12)
    save(folder, "ids", ids.numpy())
    save(folder, "mask", mask.numpy())
    save(folder, "token_types", types.numpy())
    save(folder, "last_hidden_state", h.numpy())
    save(folder, "pooled", pooled.numpy())
    save(folder, "normalized", normalized.numpy())


def roberta():
    """RoBERTa counts positions from padding_idx + 1 and has one token type."""
    folder = start("roberta", 4)
    config = transformers.RobertaConfig(vocab_size=100, hidden_size=32, num_hidden_layers=2,
                                        num_attention_heads=4, intermediate_size=64,
                                        max_position_embeddings=40, type_vocab_size=1,
                                        pad_token_id=1, initializer_range=0.2)
    model = transformers.RobertaModel(config, add_pooling_layer=False).eval()
    perturb(model)
    model.save_pretrained(folder, safe_serialization=True)
    ids = torch.tensor([[0, 17, 33, 5, 90, 64, 11, 2], [0, 45, 8, 99, 2, 1, 1, 1]],
                       dtype=torch.int32)
    mask = (ids != 1).to(torch.int32)
    with torch.no_grad():
        h = model(input_ids=ids.long(), attention_mask=mask.long()).last_hidden_state
    save(folder, "ids", ids.numpy())
    save(folder, "mask", mask.numpy())
    save(folder, "last_hidden_state", h.numpy())


def decoder_refs(folder, model, prompt):
    """Prompt logits [1, P, V], the greedy continuation, and the logits of the whole greedy
    sequence (prompt + new tokens) so that every decode step can be checked."""
    ids = torch.tensor([prompt], dtype=torch.long)
    with torch.no_grad():
        logits = model(input_ids=ids).logits
        out = model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=False,
                             max_new_tokens=NEW_TOKENS, min_new_tokens=NEW_TOKENS,
                             pad_token_id=0)
        full = model(input_ids=out).logits
    save(folder, "prompt", np.array([prompt], dtype=np.int32))
    save(folder, "prompt_logits", logits.numpy())
    save(folder, "greedy", out[:, len(prompt):].numpy().astype(np.int32))
    save(folder, "sequence_logits", full.numpy())


def gpt2():
    folder = start("gpt2", 2)
    config = transformers.GPT2Config(vocab_size=200, n_positions=64, n_embd=48, n_layer=2,
                                     n_head=4, initializer_range=0.2, bos_token_id=1,
                                     eos_token_id=2)
    model = transformers.GPT2LMHeadModel(config).eval()
    perturb(model)
    model.save_pretrained(folder, safe_serialization=True)
    decoder_refs(folder, model, [5, 77, 12, 150, 3])


def llama():
    folder = start("llama", 3)
    config = transformers.LlamaConfig(vocab_size=256, hidden_size=64, intermediate_size=128,
                                      num_hidden_layers=2, num_attention_heads=4,
                                      num_key_value_heads=2, max_position_embeddings=64,
                                      rms_norm_eps=1e-5, tie_word_embeddings=False,
                                      initializer_range=0.2)
    config.rope_parameters = {"rope_type": "default", "rope_theta": 500000.0}
    model = transformers.LlamaForCausalLM(config).eval()
    perturb(model)
    # shards of about 100 kB: an index file and several model-0000k-of-0000n.safetensors
    model.save_pretrained(folder, safe_serialization=True, max_shard_size="100KB")
    decoder_refs(folder, model, [1, 200, 31, 7, 99, 18])


if __name__ == "__main__":
    print("torch", torch.__version__, "transformers", transformers.__version__, file=sys.stderr)
    bert()
    roberta()
    gpt2()
    llama()
