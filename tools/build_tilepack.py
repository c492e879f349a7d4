"""Build the g1bench natural-image tile pack (emoji pictograms, 10 classes x 8).

Run (from the repository root, after ``apt-get install fonts-noto-color-emoji``):

    python tools/build_tilepack.py --font /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf --out g1bench/assets/tilepack

Optional: ``--sheet /tmp/tilepack_sheet.png`` also writes a contact sheet
(one row per class) for visual inspection.

The pack is the offline stand-in for the CIFAR-10 tiles of the G1 paper's
"Shisen-Sho-Cifar10" game: every tile is a picture of one of 10 classes and
tiles match by class.  Each emoji is rendered from Google's Noto Color Emoji
font (Debian package ``fonts-noto-color-emoji``; the emoji artwork is
Apache-2.0, the font file OFL-1.1), cropped to its glyph's bounding box,
alpha-composited onto white, padded to a centred square, resized to 64x64
with LANCZOS and saved as an RGB PNG.  The output is deterministic: running
the script twice gives byte-identical files.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import unicodedata
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

PACK_NAME = "g1bench-emoji-v1"
TILE_SIZE = 64
FONT_SIZE = 109  # CBDT bitmap strikes in NotoColorEmoji only exist at 109 px
MARGIN = 0.06  # white border around the glyph, as a fraction of the tile side
DEBIAN_PACKAGE = "fonts-noto-color-emoji"

# Fixed class order; each class has exactly 8 single-codepoint emoji.
CLASSES: dict[str, list[str]] = {
    "animal": ["\U0001F436", "\U0001F431", "\U0001F42E", "\U0001F437",
               "\U0001F434", "\U0001F430", "\U0001F42D", "\U0001F42F"],
    "bird": ["\U0001F426", "\U0001F427", "\U0001F985", "\U0001F986",
             "\U0001F989", "\U0001F99C", "\U0001F9A9", "\U0001F413"],
    "sea": ["\U0001F41F", "\U0001F420", "\U0001F421", "\U0001F988",
            "\U0001F419", "\U0001F980", "\U0001F433", "\U0001F42C"],
    "insect": ["\U0001F41B", "\U0001F41C", "\U0001F41D", "\U0001FAB2",
               "\U0001F98B", "\U0001F41E", "\U0001F997", "\U0001FAB0"],
    "flower": ["\U0001F338", "\U0001F339", "\U0001F33A", "\U0001F33B",
               "\U0001F33C", "\U0001F337", "\U0001F490", "\U0001FAB7"],
    "fruit": ["\U0001F34E", "\U0001F34C", "\U0001F347", "\U0001F353",
              "\U0001F34A", "\U0001F349", "\U0001F34D", "\U0001F352"],
    "food": ["\U0001F355", "\U0001F354", "\U0001F35F", "\U0001F32D",
             "\U0001F32E", "\U0001F363", "\U0001F35E", "\U0001F370"],
    "vehicle": ["\U0001F697", "\U0001F68C", "\U0001F69A", "\U0001F695",
                "\U0001F692", "\U0001F6B2", "\U0001F3CD", "\U0001F69C"],
    "boat": ["\u26F5", "\U0001F6A2", "\U0001F6A4", "\U0001F6F6",
             "\u26F4", "\U0001F6E5", "\U0001F6F3", "\U0001F6A3"],
    "ball": ["\u26BD", "\U0001F3C0", "\U0001F3C8", "\u26BE",
             "\U0001F3BE", "\U0001F3D0", "\U0001F94E", "\U0001F3B1"],
}


def codepoints(s: str) -> str:
    return " ".join(f"U+{ord(c):04X}" for c in s)


def emoji_name(s: str) -> str:
    return " ".join(unicodedata.name(c).lower() for c in s)


def render_tile(font: ImageFont.FreeTypeFont, emoji: str, size: int = TILE_SIZE) -> Image.Image:
    """Render one emoji as a centred ``size`` x ``size`` RGB tile on white."""
    canvas = Image.new("RGBA", (3 * FONT_SIZE, 3 * FONT_SIZE), (255, 255, 255, 0))
    ImageDraw.Draw(canvas).text((FONT_SIZE, FONT_SIZE), emoji, font=font,
                                embedded_color=True)
    bbox = canvas.getchannel("A").getbbox()
    if bbox is None:
        raise ValueError(f"emoji {codepoints(emoji)} rendered empty")
    glyph = canvas.crop(bbox)
    w, h = glyph.size
    side = round(max(w, h) * (1 + 2 * MARGIN))
    square = Image.new("RGBA", (side, side), (255, 255, 255, 255))
    square.alpha_composite(glyph, ((side - w) // 2, (side - h) // 2))
    return square.convert("RGB").resize((size, size), Image.Resampling.LANCZOS)


def debian_version(package: str) -> str:
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package],
                             capture_output=True, text=True, check=True)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def contact_sheet(tiles: dict[str, list[Image.Image]], path: Path) -> None:
    pad = 4
    rows = len(tiles)
    cols = max(len(v) for v in tiles.values())
    sheet = Image.new("RGB", (cols * (TILE_SIZE + pad) + pad, rows * (TILE_SIZE + pad) + pad),
                      (160, 160, 160))
    for r, cls in enumerate(tiles):
        for c, tile in enumerate(tiles[cls]):
            sheet.paste(tile, (pad + c * (TILE_SIZE + pad), pad + r * (TILE_SIZE + pad)))
    sheet.save(path)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--font", default="/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf")
    ap.add_argument("--out", default="g1bench/assets/tilepack")
    ap.add_argument("--sheet", default=None, help="optional contact-sheet PNG path")
    args = ap.parse_args(argv)

    # BASIC layout maps each codepoint straight through the cmap, independent
    # of whether Pillow was built with libraqm.
    font = ImageFont.truetype(args.font, FONT_SIZE, layout_engine=ImageFont.Layout.BASIC)
    out = Path(args.out)
    version = debian_version(DEBIAN_PACKAGE)
    manifest = {
        "name": PACK_NAME,
        "source": (f"Google Noto Color Emoji (https://github.com/googlefonts/noto-emoji), "
                   f"rendered from NotoColorEmoji.ttf of Debian package "
                   f"{DEBIAN_PACKAGE} {version} by tools/build_tilepack.py"),
        "license": "Apache-2.0 (emoji artwork, Google Noto Emoji); see LICENSE",
        "size": TILE_SIZE,
        "classes": {},
    }
    tiles: dict[str, list[Image.Image]] = {}
    for cls, emojis in CLASSES.items():
        assert len(emojis) == 8 and len(set(emojis)) == 8, cls
        (out / cls).mkdir(parents=True, exist_ok=True)
        entries = []
        tiles[cls] = []
        for i, e in enumerate(emojis):
            tile = render_tile(font, e)
            rel = f"{cls}/{i:02d}.png"
            tile.save(out / rel, optimize=True)
            tiles[cls].append(tile)
            entries.append({"file": rel, "emoji": e, "codepoints": codepoints(e),
                            "name": emoji_name(e)})
        manifest["classes"][cls] = entries
    (out / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    if args.sheet:
        contact_sheet(tiles, Path(args.sheet))
    n = sum(len(v) for v in tiles.values())
    print(f"wrote {n} tiles in {len(tiles)} classes to {out}")


if __name__ == "__main__":
    main()
