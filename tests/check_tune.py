#!/usr/bin/env python3
"""`porta tune` on one device: the winners it prints are stored for that device and every later
plan there uses them, after forced variants and unless PORTA_TUNE=off; --dry-run stores nothing.
usage: check_tune.py PORTA WORKDIR"""
import json
import os
import re
import shutil
import subprocess
import sys

porta, workdir = sys.argv[1], sys.argv[2]
shutil.rmtree(workdir, ignore_errors=True)
os.makedirs(workdir)
graph = os.path.join(workdir, 'softmax.pg')
with open(graph, 'w') as f:
    f.write('graph softmax\ninput x : f32[12, 512, 512]\ny = softmax(x)\noutput y\n')
failures = []


def expect(condition, what):
    if not condition:
        failures.append(what)


def run(args, cache, **env):
    environment = dict(os.environ, PORTA_CACHE_DIR=cache, **env)
    return subprocess.run([porta] + args, capture_output=True, text=True, env=environment)


def plan_line(device, cache, **env):
    """The plan's variants line for the softmax's norm rows, or ''."""
    out = run(['plan', graph, '--device', device], cache, **env).stdout
    lines = [line for line in out.splitlines() if re.match(r'\s+norm\s+r6144,c512\s', line)]
    return lines[0] if lines else ''


devices = json.loads(run(['devices', '--json'], workdir).stdout)['devices']
if not devices:
    print('no device: nothing to tune')
    sys.exit(77)
device = devices[0]['id']
cache = os.path.join(workdir, 'cache')

# Before tuning, the rule decides.
expect('(rule' in plan_line(device, cache), f'untuned plan: {plan_line(device, cache)!r}')

dry = run(['tune', graph, '--device', device, '--repeat', '1', '--dry-run'], cache)
expect(dry.returncode == 0, f'dry run: {dry.stderr}')
expect('(rule' in plan_line(device, cache), 'a dry run stored its winners')

tuned = run(['tune', graph, '--device', device, '--repeat', '2'], cache)
expect(tuned.returncode == 0, f'tune exit status {tuned.returncode}: {tuned.stderr}')
row = [line for line in tuned.stdout.splitlines() if ' norm ' in line and 'r6144,c512' in line]
expect(len(row) == 1, f'tune output: {tuned.stdout}')
if row:
    # every candidate was measured: "rows 1.234 strips 0.987 lanes 2.345  -> strips (rule: rows)"
    times = dict(re.findall(r' (rows|strips|lanes) ([0-9.]+)', row[0]))
    winner = re.search(r'-> (\w+) \(rule: (\w+)\)', row[0])
    expect(set(times) == {'rows', 'strips', 'lanes'}, f'candidates: {row[0]}')
    expect(winner is not None, f'no winner in: {row[0]}')
    if winner and len(times) == 3:
        best = min(times, key=lambda name: float(times[name]))
        expect(winner.group(1) == best, f'winner {winner.group(1)} is not the fastest: {row[0]}')
        line = plan_line(device, cache)
        expect(f'{best} (tuned' in line, f'tuned plan: {line!r}')
        forced = 'lanes' if best != 'lanes' else 'rows'
        line = plan_line(device, cache, PORTA_VARIANTS=f'norm={forced}')
        expect(f'{forced} (forced' in line, f'forced over tuned: {line!r}')
        line = plan_line(device, cache, PORTA_TUNE='off')
        expect(f'{winner.group(2)} (rule' in line, f'PORTA_TUNE=off: {line!r}')

off = run(['tune', graph, '--device', device, '--repeat', '1'], 'off')
expect(off.returncode == 1 and 'cache is off' in off.stderr, f'tune without a cache: {off.stderr}')
bad = run(['tune', '--suite', 'dispatch'], cache)
expect(bad.returncode == 2 and 'no variants' in bad.stderr, f'dispatch suite: {bad.stderr}')

for failure in failures:
    print(failure)
print(f'{len(failures)} failures')
sys.exit(1 if failures else 0)
