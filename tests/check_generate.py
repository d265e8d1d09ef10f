#!/usr/bin/env python3
"""`porta generate` on the tiny GPT-2 and Llama checkpoints, on every device: the new token ids
must be transformers' greedy continuation exactly; the example program (examples/generate.c)
gives the same ids from the graphs `porta import` writes; and bad input is an error that says
what is wrong.
usage: check_generate.py PORTA EXAMPLE MODELS_DIR WORKDIR"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from npy_files import read_npy  # noqa: E402

porta, example, models, workdir = sys.argv[1:5]
os.makedirs(workdir, exist_ok=True)
failures = []


def expect(condition, what):
    if not condition:
        failures.append(what)


def run(*args):
    return subprocess.run([*args], capture_output=True, text=True)


def new_ids(stdout):
    for line in stdout.splitlines():
        if line.startswith('new: '):
            return [int(t) for t in line[5:].split(',')]
    return None


devices = [d['id'] for d in json.loads(run(porta, 'devices', '--json').stdout)['devices']]
expect(devices, 'no device found')
for model in ('gpt2', 'llama'):
    prompt = [int(v) for v in read_npy(os.path.join(models, model, 'ref', 'prompt.npy'))[1]]
    greedy = [int(v) for v in read_npy(os.path.join(models, model, 'ref', 'greedy.npy'))[1]]
    ids = ','.join(str(t) for t in prompt)
    for device in devices:
        r = run(porta, 'generate', os.path.join(models, model), '--prompt-ids', ids,
                '--max-new', str(len(greedy)), '--device', device)
        expect(r.returncode == 0 and new_ids(r.stdout) == greedy,
               f'{model} on {device}: {new_ids(r.stdout)} against {greedy}: {r.stderr}')
        expect('tokens/s' in r.stdout, f'{model} on {device}: no rate: {r.stdout}')
    # the example program, from the imported graphs, on the first device
    out = os.path.join(workdir, model)
    slots = len(prompt) + len(greedy) - 1
    r = run(porta, 'import', os.path.join(models, model), '-o', out, '--max-seq', str(slots))
    expect(r.returncode == 0, f'import {model}: {r.stderr}')
    r = run(example, os.path.join(out, 'prefill.pg'), os.path.join(out, 'decode.pg'),
            os.path.join(models, model), ids, str(len(greedy)), devices[0] if devices else 'auto')
    got = [int(t) for t in r.stdout.splitlines()[0].split(',')] if r.returncode == 0 else None
    expect(got == greedy, f'the example on {model}: {got} against {greedy}: {r.stderr}')

llama = os.path.join(models, 'llama')


def weight_mib(stdout):
    for line in stdout.splitlines():
        if line.startswith('device memory: weights '):
            return float(line.split()[3])
    return None


# 8-bit weights: the decode step holds them in about a quarter of the bytes (the embeddings and
# norms stay f32), and the tokens still come out
plain = run(porta, 'generate', llama, '--prompt-ids', '1,200,31', '--max-new', '3')
small = run(porta, 'generate', llama, '--prompt-ids', '1,200,31', '--max-new', '3',
            '--quantize', 'int8')
expect(plain.returncode == 0 and small.returncode == 0 and new_ids(small.stdout)
       and len(new_ids(small.stdout)) == 3, f'--quantize int8: {small.stdout} {small.stderr}')
if weight_mib(plain.stdout) and weight_mib(small.stdout):
    expect(weight_mib(small.stdout) < 0.6 * weight_mib(plain.stdout),
           f'int8 weights {weight_mib(small.stdout)} MiB against {weight_mib(plain.stdout)} MiB')
else:
    expect(False, f'no device memory line: {plain.stdout} {small.stdout}')
r = run(porta, 'generate', llama, '--prompt-ids', '1,2,3,4,5', '--max-new', '4', '--max-seq', '6')
expect(r.returncode == 1 and 'need 8 cache slots' in r.stderr and '--max-seq is 6' in r.stderr,
       f'a prompt past --max-seq: {r.stderr!r}')
r = run(porta, 'generate', llama, '--prompt-ids', '1,2,3', '--max-new', '70')
expect(r.returncode == 1 and 'max_position_embeddings' in r.stderr,
       f'past the positions the config allows: {r.stderr!r}')
r = run(porta, 'generate', llama, '--prompt-ids', '1,99999', '--max-new', '2')
expect(r.returncode == 1 and 'outside the vocabulary' in r.stderr, f'an id past the vocabulary: {r.stderr!r}')
r = run(porta, 'generate', os.path.join(models, 'bert'), '--prompt-ids', '1,2', '--max-new', '2')
expect(r.returncode == 1 and 'needs a decoder' in r.stderr, f'an encoder: {r.stderr!r}')
r = run(porta, 'generate', llama, '--prompt-ids', '1,x', '--max-new', '2')
expect(r.returncode == 2 and 'not a list of token ids' in r.stderr, f'malformed ids: {r.stderr!r}')
r = run(porta, 'generate', llama, '--prompt-ids', '1,2')
expect(r.returncode == 2 and 'no --max-new' in r.stderr, f'no --max-new: {r.stderr!r}')

for failure in failures:
    print(failure)
print(f'generate: {len(failures)} failed')
sys.exit(1 if failures else 0)
