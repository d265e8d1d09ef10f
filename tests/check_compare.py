#!/usr/bin/env python3
"""`porta compare --profile --json` on every device found: the results file's provenance (schema,
porta, host, command line, device keys), each run's figures against each other and against
`porta check`'s counts, the per-op profile, and a failed run's error message.
usage: check_compare.py PORTA WORKDIR GRAPH..."""
import json
import os
import subprocess
import sys

porta, workdir, graphs = sys.argv[1], sys.argv[2], sys.argv[3:]
os.makedirs(workdir, exist_ok=True)
report = os.path.join(workdir, 'compare.json')
broken = os.path.join(workdir, 'broken.pg')
with open(broken, 'w') as f:
    f.write('graph broken\ninput x : f32[4]\ny = relu(nope)\noutput y\n')
failures = []


def expect(condition, what):
    if not condition:
        failures.append(what)


run = subprocess.run([porta, 'compare', *graphs, broken, '--repeat', '3', '--profile',
                      '--json', report], capture_output=True, text=True)
# the broken graph fails, so the exit status is 1, and the report is still written
expect(run.returncode == 1, f'exit status {run.returncode}: {run.stderr}')
expect('device time by op' in run.stdout, 'no per-op table printed')
data = json.load(open(report))
expect(data['schema'] == 'porta-results' and data['schema_version'] == 1
       and data['kind'] == 'compare', 'schema')
expect(data['command_line'][:2] == ['porta', 'compare'] and '--profile' in data['command_line'],
       'command line')
expect(data['seed'] == 0 and data['repeat'] == 3, 'seed and repeat')
version = subprocess.run([porta, '--version'], capture_output=True, text=True).stdout
expect(data['porta']['version'] in version and data['porta']['commit'] in version,
       f"porta block {data['porta']} against {version!r}")
expect(data['host']['cores'] >= 1 and data['host']['hostname'] and data['host']['kernel']
       and data['host']['machine'], f"host block {data['host']}")
keys = {d['id']: d['key'] for d in data['devices']}
for d in data['devices']:
    expect(d['key'] == f"{d['vendor']} / {d['name']} / {d['driver_version']}", f"key of {d['id']}")
expect(len(keys) >= 1, 'no device')

counts = {}
for g in graphs:
    checked = json.loads(subprocess.run([porta, 'check', g, '--json'], capture_output=True,
                                        text=True, check=True).stdout)
    counts[checked['graph']] = (checked['flops'], checked['bytes'])

runs = data['runs']
expect(len(runs) == (len(graphs) + 1) * len(keys), f'{len(runs)} runs')
for r in runs:
    where = f"{r['graph']} on {r['device']}"
    expect(r['device_key'] == keys.get(r['device']), f'{where}: device key')
    if r['graph'] == 'broken':
        expect(r['status'] == 'failed' and 'broken.pg:3:' in r['error'] and 'nope' in r['error'],
               f"{where}: error {r.get('error')!r}")
        continue
    expect(r['status'] == 'ok', f"{where}: {r['status']} {r.get('error')}")
    if r['status'] != 'ok':
        continue
    flops, nbytes = counts[r['graph']]
    expect(r['flops'] == flops and r['bytes'] == nbytes, f'{where}: counts')
    expect(0 < r['min_ms'] <= r['median_ms'] <= r['max_ms'], f'{where}: min/median/max')
    expect(abs(r['gflops'] - flops / (r['median_ms'] * 1e6)) <= 1e-9 * max(1, r['gflops']),
           f'{where}: gflops')
    expect(abs(r['gbytes_per_s'] - nbytes / (r['median_ms'] * 1e6))
           <= 1e-9 * max(1, r['gbytes_per_s']), f'{where}: GB/s')
    desc = next(d for d in data['devices'] if d['id'] == r['device'])
    if desc['timestamps']:
        ops = r['profile']
        expect(len(ops) >= 1 and all(o['steps'] >= 1 and o['ms'] >= 0 for o in ops),
               f'{where}: profile {ops}')
        expect(abs(sum(o['ms'] for o in ops) - r['profile_ms']) <= 1e-6 * max(1, r['profile_ms']),
               f'{where}: profile total')
        expect(abs(sum(o['share'] for o in ops) - 1) < 1e-9 or r['profile_ms'] == 0,
               f'{where}: shares')
        expect(len({o['op'] for o in ops}) == len(ops), f'{where}: an op kind listed twice')

devices = json.loads(subprocess.run([porta, 'devices', '--json'], capture_output=True, text=True,
                                    check=True).stdout)
expect(devices['kind'] == 'devices' and devices['porta'] == data['porta']
       and devices['host']['hostname'] == data['host']['hostname'], 'devices --json provenance')

if failures:
    print('\n'.join(failures))
    sys.exit(1)
print(f'compare: {len(runs)} runs on {len(keys)} devices checked')
