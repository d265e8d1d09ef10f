#!/usr/bin/env python3
"""`porta import` against transformers: the tiny checkpoints of tests/models/ (made by
make_checkpoints.py) are imported and run on the CPU reference and on every device, and their
outputs compared with the outputs transformers gave for the same inputs:

  BERT     last hidden state of a padded batch of two (and the first token, --pooling cls)
  RoBERTa  the same, on the unmasked tokens
  GPT-2  prompt logits from the prefill graph, then eight greedy decode steps, each step's
  Llama  logits and token against transformers' greedy generation (sharded checkpoint)

f32 outputs must have cosine similarity >= 0.99999 with the reference and a largest absolute
error within ABS_TOLERANCE (the models' values are of order 1 to 5). Device runs also pass
`porta run --check`. Then: the comparison catches a wrong graph (rope's pair layout flipped, a
bias dropped), f16 imports run within the f16 tolerance, and broken checkpoints fail with
messages naming what is wrong.
usage: check_import.py PORTA MODELS_DIR WORKDIR"""
import json
import math
import os
import shutil
import struct
import subprocess
import sys

from npy_files import read_npy, write_npy

porta, models, workdir = sys.argv[1], sys.argv[2], sys.argv[3]
shutil.rmtree(workdir, ignore_errors=True)
os.makedirs(workdir)
failures = []
quiet = False  # while a deliberately broken graph runs, its failures are the expected outcome
ABS_TOLERANCE = 1e-4
COSINE_MIN = 0.99999
MAX_SEQ = 16
# masked_mean and l2norm are ops of a later change; set this once they are in the op table.
POOLING_OPS = True


def expect(condition, what):
    if not condition:
        failures.append(what)
        if not quiet:
            print('FAIL:', what)
    return condition


# ---- .npy, stdlib only ----------------------------------------------------------------------

def write_npy_i32(path, shape, values):
    write_npy(path, shape, values, '<i4')


def compare(what, got, want, abs_tolerance=ABS_TOLERANCE, cosine_min=COSINE_MIN):
    """Cosine similarity and largest absolute error of two flat lists."""
    dot = sum(a * b for a, b in zip(got, want))
    norm = math.sqrt(sum(a * a for a in got)) * math.sqrt(sum(b * b for b in want))
    cosine = dot / norm if norm else 0.0
    error = max(abs(a - b) for a, b in zip(got, want))
    ok = len(got) == len(want) and cosine >= cosine_min and error <= abs_tolerance
    if not quiet:
        print(f'{what}: cosine {cosine:.8f}, max abs error {error:.3g}')
    expect(ok, f'{what}: cosine {cosine:.8f} (>= {cosine_min}), max abs error {error:.3g} '
               f'(<= {abs_tolerance}), {len(got)} vs {len(want)} values')
    return ok


def rows(values, shape, first, count):
    """values[:, first:first+count, :] of a [1, S, V] array, flat."""
    width = shape[-1]
    return values[first * width:(first + count) * width]


def argmax(values):
    return max(range(len(values)), key=lambda i: values[i])


# ---- running porta ---------------------------------------------------------------------------

def porta_cmd(*args):
    return subprocess.run([porta, *args], capture_output=True, text=True)


def run_graph(graph, device, weights, inputs, out):
    """porta run on `device` (with --check off the reference); the outputs' folder or None."""
    args = ['run', graph, '--device', device, '--weights', weights, '--out', out]
    for name, path in inputs.items():
        args += ['--input', f'{name}={path}']
    if device != 'ref':
        args.append('--check')
    r = porta_cmd(*args)
    if not expect(r.returncode == 0, f'porta {" ".join(args)}: exit {r.returncode}\n{r.stdout}'
                                     f'{r.stderr}'):
        return None
    return out


def import_model(name, *options):
    out = os.path.join(workdir, name)
    r = porta_cmd('import', os.path.join(models, name.split('-')[0]), '-o', out, *options)
    expect(r.returncode == 0, f'porta import {name} {options}: exit {r.returncode}: {r.stderr}')
    return out, r


listing = json.loads(porta_cmd('devices', '--json').stdout)
devices = ['ref'] + [d['id'] for d in listing['devices']]
print('devices:', ', '.join(devices))


# ---- encoders --------------------------------------------------------------------------------

def check_encoder(model, tag, options, input_names, outputs, devices_to_run, select=None,
                  max_seq=8):
    """Imports `model` with `options` (batch 2, at most `max_seq` tokens), runs it on each device
    on the references' 8 tokens and compares each (output, reference values) of `outputs`,
    keeping the elements `select` lists."""
    ref = os.path.join(models, model, 'ref')
    graph = os.path.join(workdir, tag + '.pg')
    r = porta_cmd('import', os.path.join(models, model), '-o', graph, '--batch', '2',
                  '--max-seq', str(max_seq), *options)
    if not expect(r.returncode == 0, f'porta import {tag}: {r.stderr}'):
        return
    inputs = {n: os.path.join(ref, n + '.npy') for n in input_names}
    for device in devices_to_run:
        out = run_graph(graph, device, os.path.join(models, model), inputs,
                        os.path.join(workdir, tag + '-' + device.replace(':', '')))
        for name, want in outputs if out else ():
            _, got = read_npy(os.path.join(out, name + '.npy'))
            if select:
                got = [got[i] for i in select]
            compare(f'{tag} {name} on {device}', got, want)


def check_bert():
    ref = os.path.join(models, 'bert', 'ref')
    names = ('ids', 'mask', 'token_types')
    (_, S, D), hidden = read_npy(os.path.join(ref, 'last_hidden_state.npy'))
    check_encoder('bert', 'bert', (), names, [('last_hidden_state', hidden)], devices)
    # the length is a named dim (S <= 32): the 8-token inputs bind it
    check_encoder('bert', 'bert-s32', (), names, [('last_hidden_state', hidden)], devices,
                  max_seq=32)
    # --pooling cls: the first token's hidden state
    check_encoder('bert', 'bert-cls', ('--pooling', 'cls'), names,
                  [('pooled', hidden[0:D] + hidden[S * D:S * D + D])], ['ref'])
    if not POOLING_OPS:
        print('bert pooled (mean) and normalized: not checked (the pooling ops are not in this '
              'tree)')
        return
    check_encoder('bert', 'bert-mean', ('--pooling', 'mean', '--normalize'), names,
                  [(name, read_npy(os.path.join(ref, name + '.npy'))[1])
                   for name in ('pooled', 'normalized')], devices)


def check_roberta():
    """Positions counted from padding_idx + 1, one token type. transformers gives padding
    tokens position padding_idx, so only the unmasked tokens are compared."""
    ref = os.path.join(models, 'roberta', 'ref')
    shape, hidden = read_npy(os.path.join(ref, 'last_hidden_state.npy'))
    _, mask = read_npy(os.path.join(ref, 'mask.npy'))
    D = shape[-1]
    kept = [i * D + d for i, m in enumerate(mask) if m for d in range(D)]
    check_encoder('roberta', 'roberta', (), ('ids', 'mask'),
                  [('last_hidden_state', [hidden[i] for i in kept])], devices,
                  select=kept)


# ---- decoders: prefill, then greedy decode steps ---------------------------------------------

def generate(model, folder, device, tag, steps, abs_tolerance=ABS_TOLERANCE,
             cosine_min=COSINE_MIN):
    """Prefill the prompt, then decode `steps` greedy tokens, checking each step's logits and
    token against transformers'. Returns False at the first failure."""
    ref = os.path.join(models, model, 'ref')
    weights = os.path.join(models, model)
    _, prompt = read_npy(os.path.join(ref, 'prompt.npy'))
    _, greedy = read_npy(os.path.join(ref, 'greedy.npy'))
    want_shape, want = read_npy(os.path.join(ref, 'sequence_logits.npy'))
    P = len(prompt)
    base = os.path.join(workdir, f'{tag}-{device.replace(":", "")}')
    os.makedirs(base, exist_ok=True)
    ids = os.path.join(base, 'ids.npy')
    write_npy_i32(ids, [1, P], prompt)    # the prefill's length P is a named dim up to MAX_SEQ
    out = run_graph(os.path.join(folder, 'prefill.pg'), device, weights, {'ids': ids},
                    os.path.join(base, 'prefill'))
    if not out:
        return False
    shape, logits = read_npy(os.path.join(out, 'logits.npy'))
    if not compare(f'{tag} prompt logits on {device}', rows(logits, shape, 0, P),
                   rows(want, want_shape, 0, P), abs_tolerance, cosine_min):
        return False
    last = rows(logits, shape, P - 1, 1)
    caches = {}
    layers = sum(1 for name in os.listdir(out) if name.startswith('k_cache.'))
    for layer in range(layers):
        for kv in 'kv':
            caches[f'{kv}_cache.{layer}'] = os.path.join(out, f'{kv}_cache.{layer}.npy')
    for step in range(steps):
        token = argmax(last)
        if not expect(token == greedy[step], f'{tag} on {device}: step {step} picks token '
                                             f'{token}, transformers {greedy[step]}'):
            return False
        position = P + step
        step_dir = os.path.join(base, f'step{step}')
        os.makedirs(step_dir, exist_ok=True)
        inputs = dict(caches)
        for name, shape_, values in (('ids', [1, 1], [token]), ('pos', [1], [position]),
                                     ('filled', [1, 1, 1, MAX_SEQ],
                                      [1 if j <= position else 0 for j in range(MAX_SEQ)])):
            inputs[name] = os.path.join(step_dir, name + '.npy')
            write_npy_i32(inputs[name], shape_, values)
        out = run_graph(os.path.join(folder, 'decode.pg'), device, weights, inputs,
                        os.path.join(step_dir, 'out'))
        if not out:
            return False
        _, last = read_npy(os.path.join(out, 'logits.npy'))
        if not compare(f'{tag} decode step {step} logits on {device}', last,
                       rows(want, want_shape, position, 1), abs_tolerance, cosine_min):
            return False
        caches = {f'{kv}_cache.{layer}': os.path.join(out, f'{kv}_next.{layer}.npy')
                  for layer in range(layers) for kv in 'kv'}
    return True


def check_decoder(model):
    folder, r = import_model(model, '--max-seq', str(MAX_SEQ))
    if r.returncode:
        return
    _, greedy = read_npy(os.path.join(models, model, 'ref', 'greedy.npy'))
    for device in devices:
        generate(model, folder, device, model, len(greedy))


def check_sensitivity():
    """The comparison must catch a wrong import: each graph edited as a plausible bug would
    write it, run on the reference, must fail."""
    cases = [('llama', 'mode="half"', 'mode="interleaved"', 'rope pairs interleaved'),
             ('gpt2', 'c_attn.weight), transformer.h.0.attn.c_attn.bias)',
              'c_attn.weight), scale(transformer.h.0.attn.c_attn.bias, s=0.0))',
              'layer 0 qkv bias dropped')]
    for model, old, new, what in cases:
        folder = os.path.join(workdir, model)
        broken = os.path.join(workdir, model + '-broken')
        os.makedirs(broken, exist_ok=True)
        for role in ('prefill', 'decode'):
            with open(os.path.join(folder, role + '.pg')) as f:
                text = f.read()
            if not expect(old in text, f'{model} {role}.pg has no "{old}" to break'):
                return
            with open(os.path.join(broken, role + '.pg'), 'w') as f:
                f.write(text.replace(old, new))
        global quiet
        saved, quiet = list(failures), True
        caught = not generate(model, broken, 'ref', model + '-broken', 1)
        failures[:], quiet = saved, False
        expect(caught, f'{model} with {what} still matched transformers')
        print(f'{model} with {what}: {"caught" if caught else "NOT caught"}')


def check_f16():
    """f16 weights and activations: the prefill logits within f16 error, and --check passes
    (with its f16 tolerance) on every device."""
    folder, r = import_model('llama-f16', '--max-seq', str(MAX_SEQ), '--dtype', 'f16')
    if r.returncode:
        return
    for device in devices:
        generate('llama', folder, device, 'llama-f16', 1, abs_tolerance=0.05, cosine_min=0.9999)


# ---- errors ----------------------------------------------------------------------------------

def broken_copy(model, name):
    folder = os.path.join(workdir, 'broken', name)
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(os.path.join(models, model), folder, ignore=shutil.ignore_patterns('ref'))
    return folder


def edit_config(folder, **changes):
    path = os.path.join(folder, 'config.json')
    with open(path) as f:
        config = json.load(f)
    for key, value in changes.items():
        if value is None:
            config.pop(key, None)
        else:
            config[key] = value
    with open(path, 'w') as f:
        json.dump(config, f)


def reshape_tensor(path, name, shape):
    """Rewrites the safetensors header so that tensor `name` has `shape` (same byte size)."""
    with open(path, 'rb') as f:
        data = f.read()
    length = struct.unpack('<Q', data[:8])[0]
    header = json.loads(data[8:8 + length])
    header[name]['shape'] = shape
    text = json.dumps(header).encode()
    text += b' ' * ((8 - len(text) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)) + text + data[8 + length:])


def expect_error(folder, what, *needles, code=1, options=()):
    r = porta_cmd('import', folder, '-o', os.path.join(workdir, 'broken', 'out'), *options)
    ok = r.returncode == code and all(n in r.stderr for n in needles)
    expect(ok, f'{what}: exit {r.returncode} (want {code}), stderr {r.stderr!r} should name '
               f'{needles}')


def check_errors():
    folder = broken_copy('bert', 'unknown-type')
    edit_config(folder, model_type='t5')
    expect_error(folder, 'unknown model_type', '"model_type": "t5"', 'config.json')

    folder = broken_copy('bert', 'unknown-architecture')
    edit_config(folder, architectures=['BertForQuestionAnsweringWithMagic'])
    expect_error(folder, 'unknown architecture', '"architectures"',
                 'BertForQuestionAnsweringWithMagic')

    folder = broken_copy('bert', 'relative-positions')
    edit_config(folder, position_embedding_type='relative_key')
    expect_error(folder, 'relative positions', '"position_embedding_type"', 'relative_key')

    folder = broken_copy('llama', 'rope-scaling')
    edit_config(folder, rope_scaling={'rope_type': 'linear', 'factor': 2.0})
    expect_error(folder, 'rope_scaling', '"rope_scaling"', 'not supported')

    folder = broken_copy('llama', 'rope-type')
    edit_config(folder, rope_parameters={'rope_type': 'yarn', 'rope_theta': 10000.0})
    expect_error(folder, 'rope_parameters yarn', '"rope_parameters"', 'yarn')

    folder = broken_copy('gpt2', 'activation')
    edit_config(folder, activation_function='quick_gelu')
    expect_error(folder, 'unknown activation', '"activation_function"', 'quick_gelu')

    folder = broken_copy('llama', 'missing-shard')
    os.remove(os.path.join(folder, 'model-00003-of-00005.safetensors'))
    expect_error(folder, 'missing shard', 'model-00003-of-00005.safetensors', 'cannot open')

    folder = broken_copy('bert', 'wrong-shape')
    reshape_tensor(os.path.join(folder, 'model.safetensors'),
                   'encoder.layer.1.attention.self.key.bias', [4, 8])
    expect_error(folder, 'wrong shape', "tensor 'encoder.layer.1.attention.self.key.bias'",
                 'F32[4, 8]', 'implies [32]')

    folder = broken_copy('llama', 'config-disagrees')
    edit_config(folder, intermediate_size=96)
    expect_error(folder, 'config disagrees with a tensor', "model.layers.0.mlp.gate_proj.weight",
                 '[128, 64]', 'implies [96, 64]')

    folder = broken_copy('llama', 'missing-tensor')
    edit_config(folder, attention_bias=True)
    expect_error(folder, 'missing tensor', "'model.layers.0.self_attn.q_proj.bias' is missing")

    folder = broken_copy('bert', 'no-config')
    os.remove(os.path.join(folder, 'config.json'))
    expect_error(folder, 'no config.json', 'config.json: cannot open')

    expect_error(os.path.join(models, 'bert'), '--max-seq over the positions', '--max-seq 65',
                 'max_position_embeddings', options=('--max-seq', '65'))
    expect_error(os.path.join(models, 'gpt2'), 'pooling a decoder', '--pooling',
                 options=('--pooling', 'mean'))
    expect_error(os.path.join(models, 'bert'), 'a bad --dtype', "--dtype 'f64'", code=2,
                 options=('--dtype', 'f64'))


check_bert()
check_roberta()
check_decoder('llama')
check_decoder('gpt2')
check_sensitivity()
check_f16()
check_errors()
if failures:
    print(f'{len(failures)} failures')
    sys.exit(1)
print('all checks passed')
