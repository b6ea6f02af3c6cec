"""How big are the Lambda zips, what makes them big, and are two builds the same bytes?

Builds every zip twice (``deploy/serverless/package.py``: downloads the locked wheels for both
architectures), compares the two builds byte for byte, and prints per function and architecture
the zipped and unzipped size (goal: <= 60 MB unzipped; Lambda's limit is 250 MB) and the largest
distributions it holds, then what the omissions saved (the full lock, unzipped).

Run: .venv/bin/python -m bench.lambda_package_size
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
import tempfile
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]


def _package() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "lambda_package", ROOT / "deploy" / "serverless" / "package.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> None:
    package = _package()
    with tempfile.TemporaryDirectory() as first, tempfile.TemporaryDirectory() as second:
        built = package.build(Path(first), package.PLATFORMS)
        again = package.build(Path(second), package.PLATFORMS)
        same = all(_digest(a) == _digest(b) for (a, _, _), (b, _, _) in zip(built, again, strict=True))
        print(f"two builds identical: {same}")
        for target, unzipped, sizes in built:
            arch, name = target.parent.name, target.stem
            largest = sorted(sizes.items(), key=lambda item: -item[1])[:4]
            shown = ", ".join(f"{dist} {size / 1e6:.1f}" for dist, size in largest)
            print(
                f"  {name:<17} {arch:<7} {target.stat().st_size / 1e6:5.1f} MB zipped "
                f"{unzipped / 1e6:5.1f} MB unzipped (goal <= {package.LIMIT_BYTES / 1e6:.0f}); "
                f"largest MB: {shown}"
            )
        with tempfile.TemporaryDirectory() as folder:
            site = Path(folder) / "site"
            package.install("x86_64", site)
            everything = sum(p.stat().st_size for p in site.rglob("*") if package._kept(p))
            omitted = {
                name: sum(p.stat().st_size for _, p in package._distribution_files(site, dist))
                for dist in package.distributions(path=[str(site)])
                if (name := package.normalised(dist.metadata["Name"])) in package.OMITTED["customer-service"]
            }
        print(
            f"the whole lock, x86_64, unzipped: {everything / 1e6:.1f} MB; left out of the customer zip (MB):"
        )
        print("  " + ", ".join(f"{n} {s / 1e6:.1f}" for n, s in sorted(omitted.items(), key=lambda i: -i[1])))


if __name__ == "__main__":
    main()
