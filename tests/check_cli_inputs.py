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
expect(run.returncode == 0 and 'porta run: warning' not in run.stderr, f'warning with --input: {run.stderr!r}')
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
expect(run.returncode == 0 and 'porta compare: warning' not in run.stderr, f'compare: {run.returncode} {run.stderr}')
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

# Named dims: --input files bind them, --bind too, each value checked.
dyn = os.path.join(workdir, 'dyn.pg')
with open(dyn, 'w') as f:
    f.write('graph dyn\ninput x : f32[S <= 6, 3]\ninput m : f32[1, S]\n'
            'y = add(relu(x), reshape(m, shape=[-1, 1]))\noutput y\n')
x4, m4, m5 = (os.path.join(workdir, n) for n in ('x4.npy', 'm4.npy', 'm5.npy'))
write_npy(x4, [4, 3], [1, -2, 3, -4, 5, -6, 7, -8, 9, -10, 11, -12])
write_npy(m4, [1, 4], [10, 20, 30, 40])
write_npy(m5, [1, 5], [0] * 5)
for device in ['ref'] + [d['id'] for d in json.loads(porta_run('devices', '--json').stdout)['devices']]:
    run = porta_run('run', dyn, '--device', device, '--input', f'x={x4}', '--input', f'm={m4}',
                    *([] if device == 'ref' else ['--check']),
                    '--out', os.path.join(workdir, 'dyn-out'))
    ys = [max(v, 0) + 10 * (1 + i // 3) for i, v in enumerate([1, -2, 3, -4, 5, -6, 7, -8, 9, -10, 11, -12])]
    line = next((l for l in run.stdout.splitlines() if l.startswith('y ')), '')
    expect(run.returncode == 0 and 'f32[4, 3]' in line and f'min {min(ys):.9g}' in line
           and f'max {max(ys):.9g}' in line, f'{device}: S from the files: {run.stderr} {line}')
run = porta_run('run', dyn, '--device', 'ref', '--input', f'x={x4}', '--input', f'm={m5}')
expect(run.returncode == 1 and "dim 'S' is 4" in run.stderr and 'but 5' in run.stderr,
       f'files that disagree: {run.stderr!r}')
run = porta_run('run', dyn, '--device', 'ref', '--bind', 'S=7', '--quiet')
expect(run.returncode == 1 and 'S = 7 is outside 1..6' in run.stderr, f'past the maximum: {run.stderr!r}')
run = porta_run('run', dyn, '--device', 'ref', '--bind', 'S=2', '--input', f'x={x4}', '--quiet')
expect(run.returncode == 1 and "is 2 in --bind but 4" in run.stderr, f'--bind against a file: {run.stderr!r}')
run = porta_run('run', dyn, '--device', 'ref', '--bind', 'T=2', '--quiet')
expect(run.returncode == 1 and "no dim named 'T'" in run.stderr, f'an unknown dim: {run.stderr!r}')
run = porta_run('run', dyn, '--device', 'ref', '--bind', 'S=x', '--quiet')
expect(run.returncode == 2 and 'NAME=VALUE' in run.stderr, f'a malformed --bind: {run.stderr!r}')
run = porta_run('run', dyn, '--device', 'ref', '--bind', 'S=3', '--out', os.path.join(workdir, 'dyn3'))
expect(run.returncode == 0 and 'y  f32[3, 3]' in run.stdout, f'--bind S=3: {run.stdout!r} {run.stderr!r}')

# --quantize: every linear's weight 8-bit, read from the F32 file and quantized when set; each
# device within tolerance of the reference on the same quantized weights; the reference's values
# differ from the f32 run's; q8_0 leaves a weight whose K is no multiple of 32 as it is.
qgraph = os.path.join(workdir, 'quantized.pg')
with open(qgraph, 'w') as f:
    f.write('graph quantized\ninput x : f32[3, 64]\nweight w : f32[20, 64]\nweight v : f32[5, 20]\n'
            'y = linear(gelu(linear(x, w)), v)\noutput y\n')
qweights = os.path.join(workdir, 'q.safetensors')
write_safetensors(qweights, {'w': ([20, 64], [((i * 37) % 101 - 50) / 64 for i in range(1280)]),
                             'v': ([5, 20], [((i * 11) % 23 - 11) / 16 for i in range(100)])})
plain = porta_run('run', qgraph, '--device', 'ref', '--weights', qweights, '--quiet', '--out', workdir)
for form, count in (('int8', 2), ('q8_0', 1)):
    for device in ['ref'] + [d['id'] for d in json.loads(porta_run('devices', '--json').stdout)['devices']]:
        run = porta_run('run', qgraph, '--device', device, '--weights', qweights, '--quantize', form,
                        '--out', os.path.join(workdir, f'q_{form}'),
                        *([] if device == 'ref' else ['--check']))
        held = 'i8c' if form == 'int8' else form
        expect(run.returncode == 0 and f"{count} weights of 'quantized' held as {held}" in run.stderr,
               f'--quantize {form} on {device}: {run.stdout!r} {run.stderr!r}')
        if device == 'ref':
            expect(run.stdout.split('fnv64')[-1] != plain.stdout.split('fnv64')[-1] or
                   'fnv64' not in plain.stdout, f'--quantize {form} changed nothing: {run.stdout!r}')
run = porta_run('run', qgraph, '--device', 'ref', '--quantize', 'int4')
expect(run.returncode == 2 and "--quantize 'int4' is not int8, q8_0 or bf16" in run.stderr,
       f'a bad --quantize: {run.stderr!r}')

if failures:
    print('\n'.join(failures))
    sys.exit(1)
print('cli inputs: ok')
