#!/usr/bin/env python3
"""`porta run` and `porta compare` with real inputs: outputs in the `output` line's order, a
warning for graph inputs left to the seed fill, and compare's --input and --weights (read, checked,
their errors named).
usage: check_cli_inputs.py PORTA WORKDIR"""
import json
import os
import struct
import subprocess
import sys

from npy_files import write_npy

porta, workdir = sys.argv[1], sys.argv[2]
os.makedirs(workdir, exist_ok=True)
failures = []


def expect(condition, what):
    if not condition:
        failures.append(what)


def write_safetensors(path, tensors):
    header, data = {}, b''
    for name, (shape, values) in tensors.items():
        blob = struct.pack(f'<{len(values)}f', *values)
        header[name] = {'dtype': 'F32', 'shape': shape, 'data_offsets': [len(data), len(data) + len(blob)]}
        data += blob
    text = json.dumps(header).encode()
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)) + text + data)


def porta_run(*args):
    return subprocess.run([porta, *args], capture_output=True, text=True)


graph = os.path.join(workdir, 'order.pg')
with open(graph, 'w') as f:
    f.write('graph order\ninput x : f32[2, 3]\nweight w : f32[4, 3]\n'
            'a = relu(x)\nb = linear(x, w)\noutput b, a\n')
x_npy = os.path.join(workdir, 'x.npy')
write_npy(x_npy, [2, 3], [1, -2, 3, -4, 5, -6])
weights = os.path.join(workdir, 'w.safetensors')
write_safetensors(weights, {'w': ([4, 3], [0.5 * i for i in range(12)])})
wrong = os.path.join(workdir, 'wrong.npy')
write_npy(wrong, [3, 2], [0] * 6)
missing = os.path.join(workdir, 'missing.safetensors')
write_safetensors(missing, {'v': ([4, 3], [0] * 12)})

# The output line's order, in what run prints and writes and in what print gives back.
run = porta_run('run', graph, '--device', 'ref', '--out', os.path.join(workdir, 'out'))
names = [line.split()[0] for line in run.stdout.splitlines() if line.strip()]
expect(run.returncode == 0 and names == ['b', 'a'], f'run printed {names}: {run.stderr}')
printed = porta_run('print', graph).stdout
expect('output b, a' in printed, f'print gave {printed!r}')

# An input left to the seed is a warning naming it; one given is not.
expect("warning: input 'x' got no --input" in run.stderr, f'no seed warning: {run.stderr!r}')
run = porta_run('run', graph, '--device', 'ref', '--input', f'x={x_npy}', '--weights', weights,
                '--out', os.path.join(workdir, 'out'))
expect(run.returncode == 0 and 'warning' not in run.stderr, f'warning with --input: {run.stderr!r}')
# b = x w^T, by hand: row 0 of x is (1, -2, 3), row 0 of w is (0, 0.5, 1)
line = next(l for l in run.stdout.splitlines() if l.startswith('b '))
w = [0.5 * i for i in range(12)]
xs = [1, -2, 3, -4, 5, -6]
b = [sum(xs[r * 3 + k] * w[c * 3 + k] for k in range(3)) for r in range(2) for c in range(4)]
expect(f'min {min(b):.9g}' in line and f'max {max(b):.9g}' in line, f'b from the files: {line}')

# compare takes the same --input and --weights.
report = os.path.join(workdir, 'compare.json')
run = porta_run('compare', graph, '--input', f'x={x_npy}', '--weights', weights, '--repeat', '1',
                '--json', report)
expect(run.returncode == 0 and 'warning' not in run.stderr, f'compare: {run.returncode} {run.stderr}')
data = json.load(open(report))
expect(data['runs'] and all(r['status'] == 'ok' for r in data['runs']), f"compare runs {data['runs']}")
expect('--weights' in data['command_line'], 'compare command line')
run = porta_run('compare', graph, '--input', f'x={wrong}', '--repeat', '1')
expect(run.returncode == 1 and 'wrong.npy' in run.stderr, f'a wrong shape: {run.stderr!r}')
run = porta_run('compare', graph, '--weights', missing, '--repeat', '1')
expect(run.returncode == 1 and "'w'" in run.stderr, f'a missing weight: {run.stderr!r}')
run = porta_run('compare', graph, '--input', 'nope=x.npy', '--repeat', '1')
expect(run.returncode == 1 and "'nope'" in run.stderr, f'an unknown input: {run.stderr!r}')
run = porta_run('compare', graph, '--input', 'x')
expect(run.returncode == 2 and 'NAME=PATH' in run.stderr, f'a malformed --input: {run.stderr!r}')

if failures:
    print('\n'.join(failures))
    sys.exit(1)
print('cli inputs: ok')
