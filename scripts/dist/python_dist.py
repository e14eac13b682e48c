"""Builds the Python distributions of tasker-native with the standard library only (no PyPI here, so no `build`):

- the platform wheel, tasker_native-<v>-py3-none-<platform>.whl: the pure-Python package plus tasker/_native/<lib>,
  tagged for the one platform the library runs on (the binding uses ctypes, so any Python 3 of that platform);
- the sdist, tasker_native-<v>.tar.gz: the source (setuptools builds it; it carries no library, and says so when an
  engine opens).

A wheel is a zip with a .dist-info folder (METADATA, WHEEL, RECORD): PEP 427 and the packaging guide's "Binary
distribution format". File dates are fixed so the same input gives the same bytes.

usage: python_dist.py --version V --library PATH --rid RID --source bindings/python --out dist
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import gzip
import io
import os
import platform
import re
import tarfile
import zipfile
from pathlib import Path

EPOCH = 315532800  # 1980-01-01, the earliest time a zip can hold
EXCLUDED_DIRS = {"__pycache__", "_native"}


def platform_tag(rid: str) -> str:
    """The wheel platform tag for a .NET runtime identifier. Linux: manylinux_<glibc of this machine>_<arch>, the
    oldest glibc the library is known to run on, since it was linked here."""
    os_name, arch = rid.split("-", 1)
    if os_name == "linux":
        libc, version = platform.libc_ver()
        if libc != "glibc":
            raise SystemExit(f"python_dist: the build machine's C library is {libc or 'unknown'}, not glibc: no manylinux tag")
        major, minor = version.split(".")[:2]
        return f"manylinux_{major}_{minor}_" + {"x64": "x86_64", "arm64": "aarch64"}[arch]
    if os_name == "osx":
        return {"x64": "macosx_10_15_x86_64", "arm64": "macosx_11_0_arm64"}[arch]
    if os_name == "win":
        return {"x64": "win_amd64", "arm64": "win_arm64"}[arch]
    raise SystemExit(f"python_dist: no wheel platform tag for {rid}")


def metadata(source: Path, version: str) -> str:
    pyproject = (source / "pyproject.toml").read_text(encoding="utf-8")
    description = re.search(r'^description = "(.*)"$', pyproject, re.M).group(1)
    requires_python = re.search(r'^requires-python = "(.*)"$', pyproject, re.M).group(1)
    readme = (source / "README.md").read_text(encoding="utf-8")
    return (f"Metadata-Version: 2.1\nName: tasker-native\nVersion: {version}\nSummary: {description}\n"
            f"License: MIT\nRequires-Python: {requires_python}\nProvides-Extra: celery\n"
            'Requires-Dist: celery>=5; extra == "celery"\nDescription-Content-Type: text/markdown\n\n' + readme)


def package_files(source: Path) -> list[tuple[str, Path]]:
    """(path inside the package, file) for every file of src/tasker but build leftovers and the library."""
    root = source / "src" / "tasker"
    files = []
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if path.is_file() and not EXCLUDED_DIRS & set(relative.parts) and path.suffix not in (".pyc", ".so"):
            files.append((f"tasker/{relative.as_posix()}", path))
    return files


def record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def write_wheel(args: argparse.Namespace, source: Path, out: Path) -> Path:
    tag = f"py3-none-{platform_tag(args.rid)}"
    dist_info = f"tasker_native-{args.version}.dist-info"
    library = Path(args.library)
    entries: list[tuple[str, bytes, int]] = [(name, path.read_bytes(), 0o644) for name, path in package_files(source)]
    entries.append(("tasker/VERSION", f"{args.version}\n".encode(), 0o644))
    entries.append((f"tasker/_native/{library.name}", library.read_bytes(), 0o755))
    entries.append((f"{dist_info}/METADATA", metadata(source, args.version).encode(), 0o644))
    entries.append((f"{dist_info}/WHEEL", (f"Wheel-Version: 1.0\nGenerator: tasker-native scripts/dist/python_dist.py\n"
                                           f"Root-Is-Purelib: false\nTag: {tag}\n").encode(), 0o644))
    record = "\n".join(record_line(name, data) for name, data, _ in entries) + f"\n{dist_info}/RECORD,,\n"
    entries.append((f"{dist_info}/RECORD", record.encode(), 0o644))

    wheel = out / f"tasker_native-{args.version}-{tag}.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data, mode in entries:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return wheel


def write_sdist(args: argparse.Namespace, source: Path, out: Path) -> Path:
    base = f"tasker_native-{args.version}"
    # The sdist is built away from the repository, so its version is written in (no VERSION file to read there).
    pyproject = (source / "pyproject.toml").read_text(encoding="utf-8")
    pyproject = re.sub(r'^dynamic = \["version"\].*$', f'version = "{args.version}"', pyproject, flags=re.M)
    pyproject = re.sub(r'\[tool\.setuptools\.dynamic\]\nversion = \{[^}]*\}\n\n', "", pyproject)
    members: list[tuple[str, bytes]] = [
        ("PKG-INFO", metadata(source, args.version).encode()),
        ("pyproject.toml", pyproject.encode()),
        ("README.md", (source / "README.md").read_bytes()),
        ("src/tasker/VERSION", f"{args.version}\n".encode()),
    ] + [(f"src/{name}", path.read_bytes()) for name, path in package_files(source)]

    sdist = out / f"{base}.tar.gz"
    with open(sdist, "wb") as raw:
        # gzip's own header carries a time too: fixed, for the same reason as the members'.
        with gzip.GzipFile(fileobj=raw, mode="wb", mtime=EPOCH, filename="") as compressed:
            with tarfile.open(fileobj=compressed, mode="w", format=tarfile.PAX_FORMAT) as archive:
                for name, data in members:
                    info = tarfile.TarInfo(f"{base}/{name}")
                    info.size, info.mtime, info.mode = len(data), EPOCH, 0o644
                    archive.addfile(info, io.BytesIO(data))
    return sdist


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", required=True)
    parser.add_argument("--library", required=True, help="the published libtasker to put in the wheel")
    parser.add_argument("--rid", required=True, help=".NET runtime identifier the library was published for")
    parser.add_argument("--source", required=True, help="bindings/python")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    source, out = Path(args.source), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if not os.path.isfile(args.library):
        raise SystemExit(f"python_dist: {args.library} does not exist (./build.sh native publishes it)")
    print(write_wheel(args, source, out))
    print(write_sdist(args, source, out))


if __name__ == "__main__":
    main()
