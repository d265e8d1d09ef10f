#!/usr/bin/env python3
"""`porta run` on a device keeps host copies for the inputs and outputs only: a graph with an
intermediate of 3.6e9 elements, whose float64 copy (28.8 GB) this host cannot hold, reaches the
device, which refuses that tensor by name with its size.
usage: check_big_run.py PORTA WORKDIR"""
import json
import os
import shutil
import subprocess
import sys

porta, workdir = sys.argv[1], sys.argv[2]
shutil.rmtree(workdir, ignore_errors=True)
os.makedirs(workdir)
graph = os.path.join(workdir, 'outer.pg')
with open(graph, 'w') as f:
    f.write('graph outer\n'
            'input a : f32[60000, 1]\n'
            'input b : f32[1, 60000]\n'
            'h = matmul(a, b)\n'
            'y = slice(h, axis=0, start=0, end=2)\n'
            'output y\n')
failures = []


def run(args):
    return subprocess.run([porta] + args, capture_output=True, text=True, env=os.environ)


devices = json.loads(run(['devices', '--json']).stdout)['devices']
if not devices:
    failures.append('no device')
for device in devices:
    out = run(['run', graph, '--device', device['id'], '--quiet', '--out', workdir])
    message = out.stderr
    if out.returncode != 1 or 'reference' in message or "'h'" not in message or \
            '14400000000 bytes' not in message:
        failures.append('%s: exit %d, %s' % (device['id'], out.returncode, message.strip()))
if failures:
    print('\n'.join(failures))
    sys.exit(1)
print('%d devices' % len(devices))
