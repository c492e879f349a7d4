import os

# The natural-image game must never try the Hub in tests: it uses the bundled pack unless a test says otherwise.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


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
