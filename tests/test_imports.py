"""No import cycles among enachi_ros modules, and every module imports on its own.

Two checks:
- the import graph read from the source with ``ast`` (every ``import`` of an enachi_ros module,
  function-level lazy imports included: a lazy import that closes a cycle still ties two modules
  to each other and only moves the failure to call time) is acyclic;
- each module is imported first, alone, in an interpreter that holds no other enachi_ros module
  (a fork of a fresh interpreter that preloaded only third-party packages, which keeps this
  fast), so an import order that works only because another module came first is caught.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "enachi_ros"

# Cycles known to exist in code another change owns, with the reason they are still here. The
# test fails when one disappears too (then delete its entry), so this list cannot go stale.
KNOWN_CYCLES: dict[frozenset[str], str] = {
}


def module_files() -> dict[str, Path]:
    """Dotted name -> file of every module of the package (``__main__`` modules included)."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The enachi_ros modules ``name`` imports anywhere in its source (lazy imports included)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *([base] if base else [])])
            # ``from pkg import sub`` imports the module pkg.sub; ``from mod import name``, mod
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                       for a in node.names]
        else:
            continue
        for target in targets:
            module = target
            while module and module not in modules:  # a.b.c where only a.b is ours
                module = module.rpartition(".")[0]
            if module and module != name:
                found.add(module)
    return found


def cycles(graph: dict[str, set[str]]) -> set[frozenset[str]]:
    """The import cycles: sets of modules that each reach every other one of the set."""
    reach = {}
    for start, direct in graph.items():
        seen: set[str] = set()
        todo = list(direct)
        while todo:
            node = todo.pop()
            if node not in seen:
                seen.add(node)
                todo.extend(graph.get(node, ()))
        reach[start] = seen
    return {frozenset(other for other in reach[node] if node in reach[other])
            for node in graph if node in reach[node]}


def test_cycle_finder_finds_cycles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}}
    assert cycles(graph) == {frozenset({"a", "b", "c"}), frozenset({"e"})}


def test_the_import_graph_is_acyclic() -> None:
    modules = module_files()
    graph = {name: imports_of(name, path, modules) for name, path in modules.items()}
    # function-level imports count: run_calibrate imports verify when it is asked to verify
    assert "enachi_ros.models.verify" in graph["enachi_ros.models.calibrate"]
    assert "enachi_ros.models.calibrate" not in graph["enachi_ros.models.verify"]
    found = cycles(graph)
    new = [sorted(c) for c in found - set(KNOWN_CYCLES)]
    assert not new, f"import cycles among enachi_ros modules: {new}"
    gone = [sorted(c) for c in set(KNOWN_CYCLES) - found]
    assert not gone, f"these cycles are gone: remove them from KNOWN_CYCLES: {gone}"


# Run in a fresh interpreter: preload third-party packages, then fork once per module.
_IMPORT_EACH = r"""
import importlib, json, os, sys
modules, preload, standins = json.loads(sys.argv[1])
for name in preload:
    try:
        importlib.import_module(name)
    except Exception:
        pass
try:
    import launch  # noqa: F401  (the launch helpers need it: the real one, else the stand-in)
except ImportError:
    sys.path.append(standins)
# what the venv's enachi_tv_shim.pth imports at every start-up (it imports nothing of ours)
started = sorted(m for m in sys.modules if m.split(".")[0] == "enachi_ros")
failures, running = {}, {}


def reap():
    pid, status = os.wait()
    name, read = running.pop(pid)
    with os.fdopen(read, "rb") as pipe:
        error = pipe.read().decode()
    if status:
        failures[name] = error or f"exit status {status}"


for name in modules:  # one child per module, as many at once as there are cores
    if name in sys.modules:
        continue
    while len(running) >= (os.cpu_count() or 1):
        reap()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        code = 0
        try:
            importlib.import_module(name)
        except BaseException as exc:
            os.write(write, f"{type(exc).__name__}: {exc}".encode()[:4000])
            code = 1
        os._exit(code)
    os.close(write)
    running[pid] = (name, read)
while running:
    reap()
print(json.dumps({"started": started, "failures": failures}))
"""


def third_party_imports(modules: dict[str, Path]) -> list[str]:
    """Modules imported at the top level of our modules that are not ours (the preload)."""
    names = set()
    for path in modules.values():
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names.add(node.module)
    # torchvision is left out: its first import runs our CPU shim (models.tv_shim), which the
    # check must see imported fresh like every other module
    return sorted(n for n in names if n.split(".")[0] not in ("enachi_ros", "torchvision",
                                                                "launch", "launch_ros"))


def test_every_module_imports_alone_in_a_fresh_interpreter(tmp_path: Path) -> None:
    modules = module_files()
    names = [n for n in modules if not n.endswith(".__main__")]  # those run the program
    standins = str(PACKAGE / "tools" / "launch_eval" / "standins")
    argument = json.dumps([names, third_party_imports(modules), standins])
    # not from the repository root, where the launch/ folder would pass for a ``launch`` package
    proc = subprocess.run([sys.executable, "-c", _IMPORT_EACH, argument], cwd=tmp_path,
                          capture_output=True, text=True, timeout=240, check=False)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert set(result["started"]) <= {"enachi_ros", "enachi_ros.tv_import_hook"}, result
    assert not result["failures"], json.dumps(result["failures"], indent=1)
