import os

# The natural-image game must never try the Hub in tests: it uses the bundled pack unless a test says otherwise.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

# Results stores and caches of the tests (and of every command they start) live in one temporary folder,
# never in the developer's ~/.local/share/g1bench or ~/.cache/g1bench.
import atexit  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402

_STATE = tempfile.mkdtemp(prefix="g1bench-tests-")
atexit.register(shutil.rmtree, _STATE, ignore_errors=True)
os.environ.setdefault("G1BENCH_RESULTS_DIR", os.path.join(_STATE, "results"))
os.environ.setdefault("G1BENCH_CACHE_DIR", os.path.join(_STATE, "cache"))


# -- tiny random-weight VLMs (model-backend tests); built once per session, offline -------------------
import pytest  # noqa: E402


@pytest.fixture(scope="session")
def tiny_qwen2_vl(tmp_path_factory):
    """A tiny random-weight Qwen2-VL folder (g1bench.testing.tiny_vlm); skips without torch/transformers."""
    pytest.importorskip("torchvision")
    pytest.importorskip("transformers")
    from g1bench.testing.tiny_vlm import build_tiny_vlm

    return build_tiny_vlm(tmp_path_factory.mktemp("models") / "tiny-qwen2-vl", "qwen2_vl")


@pytest.fixture(scope="session")
def tiny_qwen25_vl(tmp_path_factory):
    """A tiny random-weight Qwen2.5-VL folder."""
    pytest.importorskip("torchvision")
    pytest.importorskip("transformers")
    from g1bench.testing.tiny_vlm import build_tiny_vlm

    return build_tiny_vlm(tmp_path_factory.mktemp("models") / "tiny-qwen25-vl", "qwen2_5_vl")


# -- real filesystem faults: a read-only folder and a full disk ----------------------------------------
import contextlib  # noqa: E402
import subprocess  # noqa: E402


@contextlib.contextmanager
def _tmpfs(path, options: str):
    """A tmpfs mounted at ``path`` (root with CAP_SYS_ADMIN, as on the CI machines); skips where impossible."""
    path.mkdir(parents=True, exist_ok=True)
    out = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True, text=True)
    if out.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({out.stderr.strip()}): no real read-only or full filesystem")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


@pytest.fixture
def read_only_dir(tmp_path):
    """A folder nobody can write in: chmod 0555 for a normal user; a read-only tmpfs for root (whom
    permissions do not stop)."""
    path = tmp_path / "read-only"
    if os.geteuid() != 0:
        path.mkdir()
        path.chmod(0o555)
        yield path
        path.chmod(0o755)
        return
    with _tmpfs(path, "ro,size=1m") as p:
        yield p


@pytest.fixture
def full_disk(tmp_path):
    """A folder on a 256 KiB filesystem: writes past that fail with ENOSPC, as on a full disk."""
    if os.geteuid() != 0:
        pytest.skip("a full filesystem needs root to mount a small tmpfs")
    with _tmpfs(tmp_path / "full-disk", "size=256k") as p:
        yield p
