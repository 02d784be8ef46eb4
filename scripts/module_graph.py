#!/usr/bin/env python3
"""Module import graph of a Rust crate's src/ (crate::, super::, self:: paths), with SCCs.

Usage: module_graph.py SRC_DIR [--edges]   (exit 1 when there is a circle)
A module is a file: src/lib.rs = crate, src/a.rs or src/a/mod.rs = a, src/a/b.rs = a::b.
An edge a -> b exists when a's text names crate::b (or super::/self:: resolving to b),
resolved to the longest known module prefix. Inline `mod tests` count as their file.
A parent naming its own descendant only in `pub use` / `pub(crate) use` (a re-export)
is not an edge for circles; a parent *using* a child's items in its own code is, so
a parent holding real code that its children reach back into is still a circle.
"""
import os, re, sys

src = sys.argv[1]
show_edges = '--edges' in sys.argv
mods = {}
for root, _, files in os.walk(src):
    for f in files:
        if not f.endswith('.rs'):
            continue
        p = os.path.join(root, f)
        rel = os.path.relpath(p, src)[:-3].split(os.sep)
        if rel == ['lib']:
            name = 'crate'
        elif rel == ['main']:
            continue  # the binary is another crate
        else:
            if rel[-1] == 'mod':
                rel = rel[:-1]
            name = '::'.join(rel)
        mods[name] = open(p).read()

def strip_comments(t):
    t = re.sub(r'//[^\n]*', '', t)
    t = re.sub(r'/\*.*?\*/', '', t, flags=re.S)
    return t

REEXPORTED = {}  # module -> {name: absolute path it re-exports}

def resolve(path, depth=0):
    """Longest module prefix of an absolute path (list of segments below crate),
    following re-exports (`pub use`) to the module that defines the name."""
    for n in range(len(path), 0, -1):
        cand = '::'.join(path[:n])
        if cand in mods:
            break
    else:
        n, cand = 0, 'crate'
    if depth < 8 and len(path) > n and path[n] in REEXPORTED.get(cand, {}):
        return resolve(REEXPORTED[cand][path[n]] + path[n+1:], depth + 1)
    return cand

def collect_reexports():
    for m, text in mods.items():
        t = re.sub(r'//[^\n]*', '', text)
        for rm in re.finditer(r'\bpub(?:\([\w:]+\))?\s+use\s+([^;]*);', t):
            body = rm.group(1).strip()
            own = [] if m == 'crate' else m.split('::')
            head = body.split('::', 1)[0].strip()
            base = {'crate': [], 'self': own, 'super': own[:-1]}.get(head)
            rest = body.split('::', 1)[1] if base is not None else body
            if base is None:
                base = own
            for p in expand_use_tree(base, rest):
                if p:
                    REEXPORTED.setdefault(m, {})[p[-1]] = p

def expand_use_tree(prefix, body):
    """Expand `a::{b, c::{d}}` one level into full paths (segments lists)."""
    out = []
    depth, cur, items = 0, '', []
    for ch in body:
        if ch == '{': depth += 1
        if ch == '}': depth -= 1
        if ch == ',' and depth == 0:
            items.append(cur); cur = ''
        else:
            cur += ch
    items.append(cur)
    for it in items:
        it = it.strip()
        if not it:
            continue
        m = re.match(r'^([\w:]*?)(::)?\{(.*)\}$', it, re.S)
        if m:
            head = [s for s in m.group(1).split('::') if s]
            out += expand_use_tree(prefix + head, m.group(3))
        else:
            it = re.sub(r'\s+as\s+\w+$', '', it)
            segs = [s for s in it.split('::') if s and s != '*']
            out.append(prefix + segs)
    return out

def base_of(mod, kw, in_tests=False):
    parts = [] if mod == 'crate' else mod.split('::')
    if in_tests and kw == 'super':
        return parts
    if kw == 'crate':
        return []
    if kw == 'self':
        return parts
    if kw == 'super':
        return parts[:-1]

collect_reexports()
edges = {m: set() for m in mods}
reexport = {m: set() for m in mods}
used = {m: set() for m in mods}
for m, text in mods.items():
    t = strip_comments(text)
    t = re.sub(r'"(\\.|[^"\\])*"', '""', t)
    # re-exports: `pub use ...;` / `pub(crate) use ...;` statements, judged separately
    for rm in re.finditer(r'\bpub(?:\([\w:]+\))?\s+use\s+([^;]*);', t):
        body = rm.group(1)
        sub = {'crate': [], 'self': ([] if m == 'crate' else m.split('::')), 'super': ([] if m == 'crate' else m.split('::')[:-1])}
        head = body.split('::', 1)[0].strip()
        base = sub.get(head, [] if m == 'crate' else m.split('::'))
        rest = body.split('::', 1)[1] if head in sub and '::' in body else body
        for p in expand_use_tree(base, rest):
            tgt = resolve(p)
            if tgt != m:
                reexport[m].add(tgt)
    t_code = re.sub(r'\bpub(?:\([\w:]+\))?\s+use\s+[^;]*;', '', t)
    t = t_code
    paths = []
    # use trees with braces
    tests_at = t.find('mod tests {')
    intest = lambda pos: tests_at >= 0 and pos > tests_at
    for um in re.finditer(r'\buse\s+(crate|super|self)((?:::super)*)::\{', t):
        start = um.end()
        depth, i = 1, start
        while depth:
            if t[i] == '{': depth += 1
            if t[i] == '}': depth -= 1
            i += 1
        body = t[start:i-1]
        base = base_of(m, um.group(1), intest(um.start()))
        for _ in range(um.group(2).count('super')):
            base = base[:-1]
        paths += expand_use_tree(base, body)
    # plain paths anywhere (use lines without braces, inline paths)
    for pm in re.finditer(r'\b(crate|super|self)((?:::super)*)((?:::\w+)+)', t):
        base = base_of(m, pm.group(1), intest(pm.start()))
        for _ in range(pm.group(2).count('super')):
            base = base[:-1]
        segs = [s for s in pm.group(3).split('::') if s]
        # use-tree braces are handled above; here `::{` stops the match
        paths.append(base + segs)
    aliases = {}
    for p in list(paths):
        name = '::'.join(p)
        if name in mods and p:
            aliases[p[-1]] = p
    for alias, full in aliases.items():
        for am in re.finditer(r'(?<![\w:])' + alias + r'((?:::\w+)+)', t):
            paths.append(full + [x for x in am.group(1).split('::') if x])
    for p in paths:
        tgt = resolve(p)
        if tgt != m:
            edges[m].add(tgt)
            used[m].add(tgt)

def is_ancestor(a, b):
    """a is a (strict) ancestor module of b."""
    if a == 'crate':
        return b != 'crate'
    return b.startswith(a + '::')

# For circles, a parent naming its descendants (mod declarations, re-exports) is ignored.
for m in mods:
    edges[m] |= reexport[m]
g = {m: {t for t in ts if not (is_ancestor(m, t) and t in reexport[m] and t not in used[m])}
     for m, ts in edges.items()}

# Tarjan
index, low, stack, on, sccs, counter = {}, {}, [], set(), [], [0]
sys.setrecursionlimit(10000)
def strong(v):
    index[v] = low[v] = counter[0]; counter[0] += 1
    stack.append(v); on.add(v)
    for w in sorted(g[v]):
        if w not in index:
            strong(w); low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop(); on.discard(w); comp.append(w)
            if w == v: break
        sccs.append(sorted(comp))
for v in sorted(g):
    if v not in index:
        strong(v)

if show_edges:
    for m in sorted(edges):
        print(f'{m} -> {", ".join(sorted(edges[m])) or "-"}')
    print()
cyc = [c for c in sccs if len(c) > 1]
print(f'{len(mods)} modules, {sum(len(s) for s in g.values())} edges (re-export-only parent->child edges dropped)')
if not cyc:
    print('no circles: every strongly connected component is a single module')
for c in sorted(cyc, key=len, reverse=True):
    print(f'circle of {len(c)}: {", ".join(c)}')
    cs = set(c)
    for m in c:
        print(f'    {m} -> {", ".join(sorted(t for t in g[m] if t in cs))}')
sys.exit(1 if cyc else 0)
