# Prints every public header below include/corocket, relative to it, one per line.
import pathlib, sys
root = pathlib.Path(sys.argv[1])
for p in sorted(root.rglob("*.hpp")):
    print(p.relative_to(root).as_posix())
