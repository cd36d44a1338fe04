#!/usr/bin/env python3
"""The layer rule: a folder of src/ may include headers of its own folder and of folders below
it, never one above it, so no two folders can include each other. The order, top to bottom, is
the one ARCHITECTURE.md gives (the team's copy, beside the repository, is compared with this one
when present). Front ends (tools/, src/shim/) use only the public headers.

usage: check_layers.py REPO_ROOT          check the tree; exit 1 listing every violation
       check_layers.py --self-test        prove the check catches an upward include and a cycle
"""
import os
import re
import sys
import tempfile

# Top to bottom. Keep in step with ARCHITECTURE.md ("Layer order").
LAYERS = ["shim", "core", "exec", "collectives", "transport", "topology", "base"]
# Front ends: only these headers (plus their own folder's).
PUBLIC = {"braid.h", "braid_ext.h"}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def includes(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return INCLUDE.findall(f.read())


def sources(root):
    for dirpath, _, files in os.walk(root):
        for name in sorted(files):
            if name.endswith((".c", ".h", ".cu", ".cuh", ".cc")):
                yield os.path.join(dirpath, name)


def check_src(repo):
    errors = []
    src = os.path.join(repo, "src")
    rank = {name: i for i, name in enumerate(LAYERS)}
    for path in sources(src):
        rel = os.path.relpath(path, src)
        folder = rel.split(os.sep)[0]
        if folder not in rank:
            if os.sep in rel:
                errors.append(f"src/{rel}: folder {folder}/ is not in the layer order; add it "
                              "to LAYERS here and to ARCHITECTURE.md")
            continue
        for inc in includes(path):
            if inc in PUBLIC:
                continue
            target = inc.split("/")[0] if "/" in inc else folder
            if target not in rank:
                errors.append(f"src/{rel}: includes \"{inc}\", which is in no layer")
            elif folder == "shim" and target != "shim":
                errors.append(f"src/{rel}: the shim is a front end; it may include only "
                              f"{', '.join(sorted(PUBLIC))}, not \"{inc}\"")
            elif rank[target] < rank[folder]:
                errors.append(f"src/{rel}: includes \"{inc}\": {target}/ is above {folder}/ "
                              f"(order: {' > '.join(LAYERS)})")
    return errors


def check_tools(repo):
    errors = []
    tools = os.path.join(repo, "tools")
    if not os.path.isdir(tools):
        return errors
    for path in sources(tools):
        here = os.path.dirname(path)
        for inc in includes(path):
            if inc in PUBLIC or os.path.exists(os.path.join(here, inc)):
                continue
            errors.append(f"{os.path.relpath(path, repo)}: includes \"{inc}\"; tools use only "
                          f"{', '.join(sorted(PUBLIC))} and their own headers")
    return errors


def check_doc(repo):
    """Compares LAYERS with the order ARCHITECTURE.md writes, where the team's copy exists."""
    doc = os.path.join(repo, "..", "shared", "ARCHITECTURE.md")
    if not os.path.exists(doc):
        return []
    with open(doc, encoding="utf-8") as f:
        text = f.read()
    block = re.search(r"Layer order.*?```(.*?)```", text, re.S)
    if not block:
        return [f"{doc}: no layer-order block found"]
    order = []
    for line in block.group(1).splitlines():
        for m in re.finditer(r"src/([a-z_]+)/", line.split("  ")[0] if "  " in line else line):
            if m.group(1) not in order:
                order.append(m.group(1))
    if order != LAYERS:
        return [f"{doc} gives the layer order {order}, this check {LAYERS}: make them agree"]
    return []


def self_test():
    with tempfile.TemporaryDirectory() as tmp:
        def put(rel, text):
            path = os.path.join(tmp, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(text)
        put("src/base/a.h", '#include "braid.h"\n')
        put("src/topology/b.c", '#include "base/a.h"\n#include "topology/b.h"\n')
        put("src/core/c.c", '#include "topology/b.h"\n#include "transport/t.h"\n')
        put("tools/x/main.c", '#include "braid.h"\n#include "local.h"\n')
        put("tools/x/local.h", "\n")
        ok = check_src(tmp) + check_tools(tmp)
        assert ok == [], f"a clean tree was rejected: {ok}"
        put("src/base/bad.c", '#include "core/comm.h"\n')            # upward
        put("src/transport/t.h", '#include "collectives/plan.h"\n')  # upward: a cycle's half
        put("src/collectives/p.c", '#include "transport/t.h"\n')
        put("src/gpu/k.c", '#include "base/a.h"\n')                   # unknown folder
        put("tools/x/bad.c", '#include "topology/topo.h"\n')         # internals in a tool
        errs = check_src(tmp) + check_tools(tmp)
        for needle in ["src/base/bad.c", "src/transport/t.h", "folder gpu/", "tools/x/bad.c"]:
            assert any(needle in e for e in errs), f"missed {needle}: {errs}"
        assert not any("src/collectives/p.c" in e for e in errs), errs
    print("self-test: the check rejects upward includes, cycles, unknown folders and tools "
          "that include internals")
    return 0


def main(argv):
    if len(argv) == 2 and argv[1] == "--self-test":
        return self_test()
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    repo = argv[1]
    errors = check_src(repo) + check_tools(repo) + check_doc(repo)
    for e in errors:
        print(e)
    if errors:
        print(f"layering: {len(errors)} violation(s)")
        return 1
    print(f"layering: clean ({' > '.join(LAYERS)})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
