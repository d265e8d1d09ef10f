#!/usr/bin/env python3
"""`porta bench` end to end on every device found: two small cases and the dispatch suite, and
the JSON report's figures checked against each other and against counts known independently.
usage: check_bench.py PORTA WORKDIR"""
import json
import os
import subprocess
import sys

porta, workdir = sys.argv[1], sys.argv[2]
os.makedirs(workdir, exist_ok=True)
report = os.path.join(workdir, 'bench.json')
failures = []


def expect(condition, what):
    if not condition:
        failures.append(what)


# Usage errors exit 2 and name what was wrong.
bad = subprocess.run([porta, 'bench', 'gemm'], capture_output=True, text=True)
expect(bad.returncode == 2 and "unknown suite 'gemm'" in bad.stderr, f'unknown suite: {bad}')
bad = subprocess.run([porta, 'bench', '--repeat', '0'], capture_output=True, text=True)
expect(bad.returncode == 2 and '--repeat' in bad.stderr, f'--repeat 0: {bad}')

listed = subprocess.run([porta, 'bench', '--list'], capture_output=True, text=True, check=True)
lines = listed.stdout.splitlines()
suites = {line.split()[0] for line in lines}
expect(suites == {'matmul', 'attention', 'softmax', 'layernorm', 'examples', 'dispatch', 'peak',
                  'bind'},
       f'suites listed: {suites}')
# 2 head dims x 4 key counts x 3 query-row counts x (plain, causal), less the causal cases with
# more query rows than keys (512 rows over 128 keys, for both head dims).
expect(sum(line.startswith('attention') for line in lines) == 46, 'attention case count')

# The 512-cube matmul, the softmax over [12, 512, 512] and the dispatch chain.
run = subprocess.run([porta, 'bench', 'matmul', 'softmax', 'dispatch', '--filter',
                      'matmul 512x,softmax,dispatch',
                      '--repeat', '3', '--count', '50', '--json', report],
                     capture_output=True, text=True)
expect(run.returncode == 0, f'bench exit status {run.returncode}: {run.stderr}')
data = json.load(open(report))
devices = [d['id'] for d in data['devices']]
expect(len(devices) >= 1, 'no device in the report')
expect(data['command_line'][:2] == ['porta', 'bench'] and data['repeat'] == 3, 'report header')
expect(data['schema'] == 'porta-results' and data['schema_version'] == 1 and data['kind'] == 'bench',
       'schema')
expect(data['porta']['version'].count('.') == 2 and data['porta']['commit'], 'porta block')
expect(data['host']['cores'] >= 1 and data['host']['kernel'] and data['host']['hostname'],
       'host block')
expect(all(' / ' in d['key'] for d in data['devices']), 'device keys')

known = {  # flops and bytes of each case, counted by hand from docs/ops.md
    'matmul 512x512x512': (2 * 512 ** 3, 4 * 3 * 512 * 512, 16 * 512, 512 * 512),
    'softmax 12x512x512': (5 * 12 * 512 * 512, 4 * 2 * 12 * 512 * 512, 12 * 512 * 512,
                           12 * 512 * 512),
}
seen = set()
for r in data['results']:
    where = f"{r['case']} on {r['device']}"
    expect(r['status'] == 'ok', f"{where}: {r['status']} {r.get('message', '')}")
    seen.add((r['case'], r['device']))
    if r['suite'] == 'dispatch':
        expect(r['count'] == 50 and r['repetitions'] == 3, f'{where}: dispatch fields')
        expect(0 < r['recorded_us']['median'] <= r['waited_each_us']['max'] * 10,
               f'{where}: dispatch times')
        continue
    flops, nbytes, checked, elements = known[r['case']]
    expect(r['flops'] == flops and r['bytes'] == nbytes, f"{where}: flops {r['flops']} bytes {r['bytes']}")
    expect(r['checked_elements'] == checked and r['output_elements'] == elements,
           f"{where}: checked {r['checked_elements']} of {r['output_elements']}")
    expect(1 <= r['repetitions'] <= 3, f'{where}: repetitions')
    expect(r['max_abs_error'] < 1e-4, f"{where}: error {r['max_abs_error']}")
    time = r[r['rates_from']]
    expect(time['min'] <= time['median'] <= time['max'] and time['min'] > 0, f'{where}: {time}')
    expect(r['wall_ms']['min'] > 0, f'{where}: wall time')
    for key, amount in (('gflops_per_s', flops), ('gbytes_per_s', nbytes)):
        want = amount / (time['median'] * 1e6)
        expect(abs(r[key] - want) <= 1e-9 * want, f'{where}: {key} {r[key]} != {want}')
for device in devices:
    for case in ['matmul 512x512x512', 'softmax 12x512x512', 'dispatch']:
        expect((case, device) in seen, f'{case} missing on {device}')

# The peak suite: every device gets its three figures, each the median of its repetitions, and
# a device's FMA peak is not below what the 512-cube matmul reached on it in the run above.
peak_report = os.path.join(workdir, 'peak.json')
run = subprocess.run([porta, 'bench', 'peak', '--repeat', '2', '--json', peak_report],
                     capture_output=True, text=True)
expect(run.returncode == 0, f'bench peak exit status {run.returncode}: {run.stdout}{run.stderr}')
matmul = {r['device']: r['gflops_per_s'] for r in data['results']
          if r['case'] == 'matmul 512x512x512' and r['status'] == 'ok'}
peak = json.load(open(peak_report))
units = {'fma_f32': 'gflops_per_s', 'bandwidth': 'gbytes_per_s', 'latency': 'latency_us'}
found = set()
for r in peak['results']:
    where = f"peak {r['case']} on {r['device']}"
    expect(r['suite'] == 'peak' and r['status'] == 'ok', f"{where}: {r.get('message')}")
    unit = units.get(r['case'])
    expect(unit is not None, f'{where}: unknown case')
    if r['status'] != 'ok' or unit is None:
        continue
    found.add((r['case'], r['device']))
    v = r['values']
    expect(r['repetitions'] == 2 and 0 < v['min'] <= v['median'] <= v['max']
           and r[unit] == v['median'], f'{where}: {r}')
    if r['case'] == 'fma_f32' and r['device'] in matmul:
        # the matmul was timed the same way (device time where there is one); a loaded machine
        # can slow either run, so only an FMA peak far below the matmul means a broken kernel
        expect(r[unit] >= 0.5 * matmul[r['device']],
               f"{where}: {r[unit]:.1f} GFLOP/s, the matmul reached {matmul[r['device']]:.1f}")
for device in devices:
    for case in units:
        expect((case, device) in found, f'peak {case} missing on {device}')

# The bind suite: on every device, one program of the encoder layer with a named length bound
# to new and seen lengths, against a program per length; its weights counted once (the layer's
# 1,774,464 floats, packed in panels of whole columns, so at least that).
bind_report = os.path.join(workdir, 'bind.json')
run = subprocess.run([porta, 'bench', 'bind', '--repeat', '2', '--json', bind_report],
                     capture_output=True, text=True)
expect(run.returncode == 0, f'bench bind exit status {run.returncode}: {run.stdout}{run.stderr}')
cases = {}
for r in json.load(open(bind_report))['results']:
    where = f"bind {r['case']} on {r['device']}"
    expect(r['suite'] == 'bind' and r['status'] == 'ok', f"{where}: {r.get('message')}")
    if r['status'] != 'ok':
        continue
    v = r['values']
    expect(r['repetitions'] == 2 and 0 < v['min'] <= v['median'] <= v['max'] and r['ms'] == v['median'],
           f'{where}: {r}')
    cases[(r['case'], r['device'])] = r
for device in devices:
    for case in ('bind_new_length', 'bind_seen_length', 'program_per_length'):
        expect((case, device) in cases, f'bind {case} missing on {device}')
    first = cases.get(('bind_new_length', device))
    if first:
        expect(first['weight_bytes'] >= 1774464 * 4 and first['create_ms'] > 0
               and first['kernels_after'] >= first['kernels_at_max'] > 0, f'bind on {device}: {first}')

for failure in failures:
    print(failure)
print(f'{len(failures)} failures')
sys.exit(1 if failures else 0)
