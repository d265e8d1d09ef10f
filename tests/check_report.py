#!/usr/bin/env python3
"""`porta report` on recorded results files of two machines (tests/data/results/): report.md's
tables against figures recomputed here from the inputs (devices merged by key, spreads over the
runs), the CSV and JSONL rows against the inputs' entries, the SVG charts' bars against the
values and their own axes, and each kind of bad input with its message.
usage: check_report.py PORTA WORKDIR RESULT.json..."""
import csv
import json
import math
import os
import re
import statistics
import subprocess
import sys
import xml.etree.ElementTree as ET

porta, workdir, inputs = sys.argv[1], sys.argv[2], sys.argv[3:]
os.makedirs(workdir, exist_ok=True)
out = os.path.join(workdir, 'report')
failures = []
SVG = '{http://www.w3.org/2000/svg}'


def expect(condition, what):
    if not condition:
        failures.append(what)


def g4(v):
    """A figure as report.md prints it (C's %.4g)."""
    return '-' if v is None else '%.4g' % v


# --- what the report must say, recomputed from the inputs ---
files = [json.load(open(p)) for p in inputs]
keys = []                   # every device key, in order of first appearance
hosts = {}                  # key -> hostnames
rows = []                   # one per entry: (path, key, suite, case, entry)
for path, data in zip(inputs, files):
    by_id = {d['id']: d['key'] for d in data['devices']}
    for d in data['devices']:
        if d['key'] not in keys:
            keys.append(d['key'])
        hosts.setdefault(d['key'], [])
        if data['host']['hostname'] not in hosts[d['key']]:
            hosts[d['key']].append(data['host']['hostname'])
    if data['kind'] == 'compare':
        for r in data['runs']:
            rows.append((path, by_id[r['device']], 'compare', r['graph'], r))
    elif data['kind'] == 'bench':
        for r in data['results']:
            rows.append((path, by_id[r['device']], r['suite'], r['case'], r))
expect(len({h for hs in hosts.values() for h in hs}) >= 2, 'the inputs are of one machine')
expect(any(len(h) > 1 for h in hosts.values()), 'no device key on two machines')


def timing(suite, r):
    """min, median, max ms and the two rates of a measured entry."""
    if suite == 'compare':
        return r['min_ms'], r['median_ms'], r['max_ms'], r['gflops'], r['gbytes_per_s']
    t = r[r['rates_from']]
    return t['min'], t['median'], t['max'], r['gflops_per_s'], r['gbytes_per_s']


def measured(key, suite, case):
    return [timing(suite, r) for _, k, s, c, r in rows
            if (k, s, c) == (key, suite, case) and r['status'] != 'failed']


def in_bytes(suite):
    flops = sum(r['flops'] for _, _, s, _, r in rows if s == suite and 'flops' in r)
    nbytes = sum(r['bytes'] for _, _, s, _, r in rows if s == suite and 'bytes' in r)
    return nbytes > 0 and flops < 2 * nbytes


def peak(key, which):
    found = [r for _, k, s, c, r in rows
             if (k, s, c) == (key, 'peak', which) and r['status'] == 'ok']
    if not found:
        return None
    return (min(r['values']['min'] for r in found),
            statistics.median(r['values']['median'] for r in found),
            max(r['values']['max'] for r in found))


# --- run it ---
run = subprocess.run([porta, 'report', *inputs, '-o', out], capture_output=True, text=True)
expect(run.returncode == 0, f'exit status {run.returncode}: {run.stderr}')
report = open(os.path.join(out, 'report.md')).read()


def table_after(heading):
    """The rows (lists of cells) of the first table after the line `heading`."""
    lines = report.splitlines()
    start = lines.index(heading)
    table = []
    for line in lines[start if heading.startswith('|') else start + 1:]:
        if line.startswith('|'):
            table.append([c.strip() for c in line.strip('|').split(' | ')])
        elif table:
            break
    return table[0], table[2:]


head, devices = table_after('## Devices')
label = {}                  # key -> column label
for row in devices:
    label[row[1]] = row[0]
    expect(row[8].split(', ') == hosts.get(row[1]), f'hosts of {row[1]}: {row[8]}')
expect(sorted(label) == sorted(keys), f'device columns {sorted(label)} against keys {keys}')
expect(len(set(label.values())) == len(keys), 'a label used twice')


def columns(head):
    by_label = {v: k for k, v in label.items()}
    return [by_label.get(h) for h in head[1:]]


suites = []
for _, _, s, c, _ in rows:
    if s not in suites and s not in ('peak', 'dispatch'):
        suites.append(s)
checked_cells = 0
for suite in suites:
    unit = 'GB/s' if in_bytes(suite) else 'GFLOP/s'
    head, table = table_after(f'### {suite} ({unit})')
    cols = columns(head)
    expect(None not in cols, f'{suite}: unknown column in {head}')
    cases = list(dict.fromkeys(c for _, _, x, c, _ in rows if x == suite))
    expect([line[0] for line in table] == cases, f'{suite}: cases {[l[0] for l in table]}')
    for line in table:
        for key, text in zip(cols, line[1:]):
            runs = measured(key, suite, line[0])
            if not runs:
                expect(text in ('-', 'FAILED'), f'{suite}/{line[0]} on {key}: {text}')
                continue
            median = statistics.median(r[1] for r in runs)
            rate = statistics.median(r[4 if unit == 'GB/s' else 3] for r in runs)
            want = (f'{g4(median)} ms [{g4(min(r[0] for r in runs))} - '
                    f'{g4(max(r[2] for r in runs))}] {g4(rate)} {unit}')
            if len(runs) > 1:
                want += f' ({len(runs)} runs)'
            expect(text == want, f'{suite}/{line[0]} on {label[key]}: {text!r}, expected {want!r}')
            checked_cells += 1
expect(checked_cells >= 20, f'only {checked_cells} throughput cells checked')
spread = [(k, s, c) for k in keys for s in suites for c in {c for _, _, x, c, _ in rows if x == s}
          if len(measured(k, s, c)) > 1]
expect(spread, 'no case measured twice: the merge of runs is not exercised')

# peaks, and each case as a fraction of its device's peak
head, table = table_after('| device | f32 FMA GFLOP/s | copy GB/s | dispatch latency us |')
for line in table:
    key = {v: k for k, v in label.items()}[line[0]]
    for which, text in zip(('fma_f32', 'bandwidth', 'latency'), line[1:]):
        p = peak(key, which)
        want = '-' if p is None else f'{g4(p[1])} [{g4(p[0])} - {g4(p[2])}]'
        expect(text == want, f'peak {which} of {line[0]}: {text!r}, expected {want!r}')
head, table = table_after('| suite: case | ' + ' | '.join(f'D{i + 1}' for i in range(len(keys)))
                          + ' |')
cols = columns(head)
for line in table:
    suite, case = line[0].split(': ', 1)
    unit_bytes = in_bytes(suite)
    for key, text in zip(cols, line[1:]):
        runs = measured(key, suite, case)
        p = peak(key, 'bandwidth' if unit_bytes else 'fma_f32')
        want = '-'
        if runs and p:
            rate = statistics.median(r[4 if unit_bytes else 3] for r in runs)
            want = g4(100 * rate / p[1]) + '%'
        expect(text == want, f'fraction of peak {line[0]} on {label[key]}: {text!r}, {want!r}')

# numerics: the largest error per op (a case's first word) and device
head, table = table_after('## Numerics')
cols = columns(head)
ops = list(dict.fromkeys(c.split(' ')[0] for _, _, s, c, r in rows
                         if s not in ('peak', 'dispatch') and 'max_abs_error' in r))
expect([line[0] for line in table] == ops, f'numerics ops {[l[0] for l in table]}, {ops}')
for line in table:
    for key, text in zip(cols, line[1:]):
        errors = [r['max_abs_error'] for _, k, s, c, r in rows
                  if k == key and s not in ('peak', 'dispatch') and c.split(' ')[0] == line[0]
                  and 'max_abs_error' in r]
        want = g4(max(errors)) if errors else '-'
        expect(text.split(' ')[0] == want, f'error of {line[0]} on {label[key]}: {text}, {want}')

# time by op of each graph, merged by key
graphs = [c for _, _, s, c, r in rows if s == 'compare' and r.get('profile')]
expect(graphs, 'no profiled graph in the inputs')
for graph in dict.fromkeys(graphs):
    head, table = table_after(f'### {graph}')
    cols = columns(head)
    profiled = list(dict.fromkeys(o['op'] for _, _, s, c, r in rows
                                  if (s, c) == ('compare', graph) for o in r.get('profile', [])))
    expect([line[0] for line in table] == profiled, f'{graph}: ops {[l[0] for l in table]}')
    for key, index in zip(cols, range(1, len(head))):
        profiles = [r['profile'] for _, k, s, c, r in rows
                    if (k, s, c) == (key, 'compare', graph) and r.get('profile')]
        ms = {line[0]: statistics.median(sum(o['ms'] for o in p if o['op'] == line[0])
                                         for p in profiles) for line in table} if profiles else {}
        total = sum(ms.values())
        for line in table:
            want = (f"{g4(ms[line[0]])} ms ({100 * ms[line[0]] / total:.1f}%)" if profiles
                    else '-')
            expect(line[index] == want, f'{graph}/{line[0]} on {label[key]}: {line[index]!r}, '
                                        f'expected {want!r}')

# --- the exports: one row per entry, the inputs' figures exactly ---
with open(os.path.join(out, 'results.csv'), newline='') as f:
    table = list(csv.DictReader(f))
lines = [json.loads(line) for line in open(os.path.join(out, 'results.jsonl'))]
expect(len(table) == len(rows) == len(lines), f'{len(table)} CSV rows, {len(lines)} JSONL rows '
                                               f'for {len(rows)} entries')


def number(text):
    return None if text in ('', None) else float(text)


for (path, key, suite, case, r), row, line in zip(rows, table, lines):
    where = f'{path}: {suite}/{case} on {r["device"]}'
    for got in (row, line):
        expect((got['file'], got['device_key'], got['suite'], got['case'], got['status'],
                got['device'], got['column']) == (path, key, suite, case, r['status'],
                                                  r['device'], label[key]),
               f'{where}: row {got}')
    if r['status'] == 'failed':
        expect(row['message'] == line['message'] == r.get('error', r.get('message', '')),
               f'{where}: message')
        continue
    if suite == 'peak':
        field = {'fma_f32': 'gflops_per_s', 'bandwidth': 'gbytes_per_s',
                 'latency': 'latency_us'}[case]
        want = {field: r[field], 'peak_min': r['values']['min'], 'peak_max': r['values']['max']}
    elif suite == 'dispatch':
        want = {'latency_us': r['waited_each_us']['median']}
    else:
        lo, mid, hi, gflops, gbytes = timing(suite, r)
        want = {'min_ms': lo, 'median_ms': mid, 'max_ms': hi, 'gflops_per_s': gflops,
                'gbytes_per_s': gbytes, 'max_abs_error': r['max_abs_error'],
                'flops': r['flops'], 'bytes': r['bytes']}
    for field, value in want.items():
        expect(number(row[field]) == value and line[field] == value,
               f'{where}: {field} {row[field]} / {line[field]}, expected {value}')
    if r.get('profile'):
        expect([(o['op'], o['ms']) for o in line['profile']]
               == [(o['op'], o['ms']) for o in r['profile']], f'{where}: profile')


# --- the charts: well formed, the expected bars, heights that match the values and the axis ---
def chart(name):
    """{(category, series): value} of the chart's bars, a device named by its column label."""
    root = ET.parse(os.path.join(out, name)).getroot()
    expect(root.tag == SVG + 'svg', f'{name}: root {root.tag}')
    bars = [(b.get('data-category'), b.get('data-series'), float(b.get('data-value')),
             float(b.get('y')), float(b.get('height')))
            for b in root.iter(SVG + 'rect') if b.get('class') == 'bar']
    grid = sorted((float(g.get('data-value')), float(g.get('y1')))
                  for g in root.iter(SVG + 'line') if g.get('class') == 'grid')
    expect(len(grid) >= 2, f'{name}: {len(grid)} grid lines')
    if len(grid) < 2:
        return {}
    log = root.get('data-scale') == 'log'
    stacked = root.get('data-layout') == 'stacked'
    (v0, y0), (v1, y1) = grid[0], grid[-1]
    scale = math.log10 if log else (lambda v: v)

    def at(v):
        """The height of value v on the axis through the lowest and highest grid lines."""
        if log and v <= 0:
            return y0
        return y0 + (scale(v) - scale(v0)) * (y1 - y0) / (scale(v1) - scale(v0))

    for v, y in grid:
        expect(abs(at(v) - y) < 0.01, f'{name}: grid line {v} at {y}, not {at(v)}')
    below = {}
    for category, series, value, top, height in bars:
        where = f'{name}: {series} / {category} = {value}'
        start = below.get(category, 0) if stacked else 0
        expect(abs(top + height - at(start)) < 0.02, f'{where} starts at {top + height}')
        expect(abs(top - at(start + value)) < 0.02, f'{where} reaches {top}, not '
                                                    f'{at(start + value)}')
        if stacked:
            below[category] = start + value
    first = lambda text: text.split(' ')[0]
    if stacked:     # a bar per device, a segment per op
        return {(first(c), s): v for c, s, v, _, _ in bars}
    return {(c, first(s)): v for c, s, v, _, _ in bars}


for suite in suites:
    unit_bytes = in_bytes(suite)
    name = f'throughput-{suite}.svg'
    got = chart(name)
    want = {}
    for key in keys:
        for case in dict.fromkeys(c for _, _, s, c, _ in rows if s == suite):
            runs = measured(key, suite, case)
            if runs:
                want[(case, label[key])] = statistics.median(r[4 if unit_bytes else 3]
                                                             for r in runs)
    expect(got == want, f'{name}: bars {got}, expected {want}')
got = chart('errors.svg')
expect(len(got) >= 10 and all(v >= 0 for v in got.values()), f'errors.svg: {got}')
head, table = table_after('## Numerics')
cols = columns(head)
for line in table:
    for key, text in zip(cols, line[1:]):
        if text != '-':
            expect(g4(got.get((line[0], label[key]), -1)) == text.split(' ')[0],
                   f'errors.svg: {line[0]} on {label[key]}')
got = chart('peak-fraction.svg')
expect(len(got) >= 10, f'peak-fraction.svg: {len(got)} bars')
for graph in dict.fromkeys(graphs):
    got = chart(f'breakdown-{graph}.svg')
    want = {}
    for key in keys:
        profiles = [r['profile'] for _, k, s, c, r in rows
                    if (k, s, c) == (key, 'compare', graph) and r.get('profile')]
        for op in {o['op'] for p in profiles for o in p}:
            want[(label[key], op)] = statistics.median(sum(o['ms'] for o in p if o['op'] == op)
                                                       for p in profiles)
    expect(got == want, f'breakdown-{graph}.svg: {got}, expected {want}')
    expect(f'![{graph}](breakdown-{graph}.svg)' in report, f'report.md does not show {graph}')


# --- bad input: the message names the file and what is wrong ---
def bad(name, text, *fragments, status=1):
    path = os.path.join(workdir, name)
    with open(path, 'w') as f:
        f.write(text)
    r = subprocess.run([porta, 'report', path, '-o', os.path.join(workdir, 'bad')],
                       capture_output=True, text=True)
    expect(r.returncode == status and (path in r.stderr or not fragments)
           and all(x in r.stderr for x in fragments), f'{name}: {r.returncode} {r.stderr!r}')
    return r


source = open(inputs[0]).read()
data = json.loads(source)
bad('truncated.json', source[:len(source) // 2], 'not valid JSON', 'ends early')
bad('garbage.json', source.replace('"results"', '"results" "x"', 1), 'not valid JSON', 'line ')
bad('empty.json', '', 'empty file')
bad('version.json', json.dumps(dict(data, schema_version=2)), 'schema_version 2',
    'reads schema_version 1')
bad('schema.json', json.dumps(dict(data, schema='other-results')), "schema 'other-results'")
bad('kind.json', json.dumps(dict(data, kind='tune')), "kind 'tune'", 'compare, bench, devices')
bad('nohost.json', json.dumps({k: v for k, v in data.items() if k != 'host'}), "'host'")
stray = json.loads(source)
stray['results'][0]['device'] = 'vulkan:7'
bad('stray.json', json.dumps(stray), 'results[0] (', "device 'vulkan:7' is not in the file's devices")
figure = json.loads(source)
figure['results'][0]['gflops_per_s'] = 'fast'
bad('figure.json', json.dumps(figure), f"results[0] ({figure['results'][0]['case']} on ",
    "'gflops_per_s' is not a number")
stats = json.loads(source)
stats['results'][0][stats['results'][0]['rates_from']] = {'min': 1}
bad('stats.json', json.dumps(stats), f"results[0] ({stats['results'][0]['case']} on ",
    f"{stats['results'][0]['rates_from']}: 'median' is missing")
# a device listed without results is a warning, in the report too, not a failure
lonely = json.loads(source)
lonely['results'] = [r for r in lonely['results'] if r['device'] != lonely['devices'][0]['id']]
r = bad('lonely.json', json.dumps(lonely), 'warning', 'has no results', status=0)
lonely_md = open(os.path.join(workdir, 'bad', 'report.md')).read()
expect('## Warnings' in lonely_md and 'lonely.json: device ' in lonely_md, 'no warning in report')
# a failed run: its cell says FAILED, its message is listed, and it is a row of the exports
compare = next(p for p, d in zip(inputs, files) if d['kind'] == 'compare')
broken = json.load(open(compare))
run0 = broken['runs'][0]
broken['runs'][0] = {k: run0[k] for k in ('graph', 'device', 'device_key', 'device_name', 'flops',
                                          'bytes')}
broken['runs'][0].update(status='failed', error='broken.pg:3:5: unknown | tensor')
r = bad('failed.json', json.dumps(broken), status=0)
failed_md = open(os.path.join(workdir, 'bad', 'report.md')).read()
row = next(line for line in failed_md.splitlines() if line.startswith(f"| {run0['graph']} |"))
expect(' | FAILED |' in row, f'no FAILED cell: {row}')
expect('## Failures' in failed_md and 'broken.pg:3:5: unknown \\| tensor' in failed_md,
       'the failure and its message are not listed')
with open(os.path.join(workdir, 'bad', 'results.csv'), newline='') as f:
    first = next(csv.DictReader(f))
expect(first['status'] == 'failed' and first['message'] == 'broken.pg:3:5: unknown | tensor'
       and first['median_ms'] == '', f'failed row {first}')

# porta bench bind's results: a table of their medians and spreads, and rows in the exports
bind_file = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'data', 'results', 'bind.json')
bind_dir = os.path.join(workdir, 'bind')
run = subprocess.run([porta, 'report', bind_file, '-o', bind_dir], capture_output=True, text=True)
expect(run.returncode == 0, f'bind report: {run.stderr}')
bind_data = json.load(open(bind_file))
text = open(os.path.join(bind_dir, 'report.md')).read() if run.returncode == 0 else ''
lines = text.split('## A new sequence length')[-1].splitlines()
labels = {d['id']: f'D{i + 1}' for i, d in enumerate(bind_data['devices'])}
order = ['bind_new_length', 'bind_seen_length', 'program_per_length']
for device, label in labels.items():
    row = next((l for l in lines if l.startswith(f'| {label} |')), None)
    want = [next(r for r in bind_data['results'] if r['device'] == device and r['case'] == c)
            for c in order]
    cells = [f"{g4(w['values']['median'])} [{g4(w['values']['min'])} - {g4(w['values']['max'])}]"
             for w in want]
    expect(row == f"| {label} | " + ' | '.join(cells) + ' |', f'bind row {label}: {row} against {cells}')
with open(os.path.join(bind_dir, 'results.csv'), newline='') as f:
    bind_rows = [r for r in csv.DictReader(f) if r['suite'] == 'bind']
expect(len(bind_rows) == len(bind_data['results']), f'bind rows in the CSV: {len(bind_rows)}')

usage = subprocess.run([porta, 'report', inputs[0]], capture_output=True, text=True)
expect(usage.returncode == 2 and '-o DIR' in usage.stderr, f'no -o: {usage}')
usage = subprocess.run([porta, 'report', '-o', workdir], capture_output=True, text=True)
expect(usage.returncode == 2 and 'no results file' in usage.stderr, f'no file: {usage}')
usage = subprocess.run([porta, 'report', inputs[0], '-o', workdir, '--bogus'],
                       capture_output=True, text=True)
expect(usage.returncode == 2 and "'--bogus'" in usage.stderr, f'unknown option: {usage}')

if failures:
    print('\n'.join(failures[:40]))
    print(f'{len(failures)} failures')
    sys.exit(1)
print(f'ok: {len(rows)} entries of {len(inputs)} files, {len(keys)} devices, '
      f'{checked_cells} throughput cells')
