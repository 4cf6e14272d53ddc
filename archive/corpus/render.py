"""Render sample documents the way a scanner delivers them, with ground truth for every page.

Public surface:

- ``Degradation`` (``Degradation.scanned(rng)`` for a typical office scan) and ``CLEAN``.
- ``find_font(typeface)``: the one place that locates the Noto CJK fonts.
- ``render_page`` / ``render_document``: A4 RGB pages as ``PIL.Image.Image``.
- ``write_document(doc, path, fmt)`` for ``FORMATS`` ("pdf-scan", "tiff", "jpeg", "png",
  "pdf-text") and ``generate_corpus(out_dir, count=...)``, which also writes ``manifest.json``.

The text drawn on a page is exactly ``SampleDocument.pages[i]``: same lines, same order. Layout
only changes positions (titles centred, form values aligned to a column, page footers at the
bottom), never characters.
"""

from __future__ import annotations

import functools
import io
import json
import math
import random
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

from archive.corpus.documents import DOC_TYPES, SampleDocument, make_customers, make_documents

__all__ = ["CLEAN", "FORMATS", "Degradation", "FontNotFoundError", "find_font", "generate_corpus",
           "render_document", "render_page", "write_document"]

FORMATS = ("pdf-scan", "tiff", "jpeg", "png", "pdf-text")
_SINGLE_IMAGE = {"jpeg", "png"}
_EXTENSIONS = {"pdf-scan": ".pdf", "tiff": ".tif", "jpeg": ".jpg", "png": ".png",
               "pdf-text": ".pdf"}
_SLUGS = {"用电申请书": "application", "供用电合同": "contract", "安全用电检查记录": "inspection",
          "计量装置装拆表工作单": "meter-work-order"}

# layout at 300 dpi, scaled linearly for other resolutions
_BODY_PX = 42  # ~10 pt: large enough for tesseract's chi_sim model to read a degraded scan
_TITLE_PX = 64
_PITCH = 1.75  # line pitch as a multiple of the font size
_MARGIN_X = 250
_MARGIN_TOP = 300
# Forms are ruled with horizontal lines only, values in a column 2 x _CELL_PAD em after the
# longest label. Measured with tesseract 5 chi_sim: a full grid (vertical rules) makes it
# classify the cells as non-text and drop or garble them (CER 15-40 % instead of 5-7 %).
_CELL_PAD = 1.2
_RULE_EM = 1 / 21  # rule thickness, 2 px at 300 dpi
_RULE_INK = 70
_FOOTER_RE = re.compile(r"^第\s*\d+\s*页\s*共\s*\d+\s*页$")
_FIELD_RE = re.compile(r"^([^：]{1,12}：)(.+)$")
_SEAL_ANCHORS = ("（盖章）", "（签章）", "（签字）")


@dataclass(frozen=True)
class Degradation:
    skew_degrees: float = 0.0
    noise: float = 0.0
    blur: float = 0.0
    jpeg_quality: int | None = None
    seal: bool = True
    form_lines: bool = True

    @classmethod
    def scanned(cls, rng: random.Random) -> Degradation:
        """A typical office scan: slightly crooked, grainy, a little soft, JPEG-compressed."""
        return cls(
            skew_degrees=round(rng.uniform(-3.0, 3.0), 2),
            noise=round(rng.uniform(1.0, 3.0), 1),  # more grain: well over 600 KB a page as JPEG
            blur=round(rng.uniform(0.3, 0.9), 2),
            jpeg_quality=rng.randint(60, 85),
        )


CLEAN = Degradation(seal=False, form_lines=False)


class FontNotFoundError(FileNotFoundError):
    pass


# Debian/Ubuntu (fonts-noto-cjk) first, then Fedora/Arch and hand-installed locations
_FONT_DIRS = tuple(Path(p) for p in ("/usr/share/fonts/opentype/noto", "/usr/share/fonts/noto-cjk",
                                     "/usr/share/fonts/google-noto-cjk", "/usr/local/share/fonts"))


@functools.lru_cache(maxsize=8)
def find_font(typeface: str = "sans", *, bold: bool = False) -> tuple[Path, int]:
    """Return (font file, face index) of Noto Sans/Serif CJK SC, or raise FontNotFoundError."""
    family = {"sans": "NotoSansCJK", "serif": "NotoSerifCJK"}[typeface]
    name = f"{family}-{'Bold' if bold else 'Regular'}.ttc"
    for directory in _FONT_DIRS:
        path = directory / name
        if path.is_file():
            break
    else:
        raise FontNotFoundError(
            f"{name} not found in {', '.join(map(str, _FONT_DIRS))}; "
            "install the Debian package fonts-noto-cjk (apt-get install fonts-noto-cjk)"
        )
    # the collection holds JP, KR, SC, TC and HK faces; SC has the mainland glyph shapes
    for index in range(10):
        if "SC" in ImageFont.truetype(str(path), 12, index=index).getname()[0]:
            return path, index
    raise FontNotFoundError(f"{path} has no Simplified Chinese (SC) face; reinstall fonts-noto-cjk")


@functools.lru_cache(maxsize=64)
def _font(typeface: str, size: int, *, bold: bool = False) -> ImageFont.FreeTypeFont:
    path, index = find_font(typeface, bold=bold)
    return ImageFont.truetype(str(path), size, index=index)


def _a4(dpi: int) -> tuple[int, int]:
    return round(210 / 25.4 * dpi), round(297 / 25.4 * dpi)


# ----------------------------------------------------------------------------- page drawing

def _seal(draw_size: int, name: str, label: str, typeface: str) -> Image.Image:
    """Ink coverage ("L") of a round company seal: ring, arc text, star, bottom label."""
    seal = Image.new("L", (draw_size, draw_size), 0)
    draw = ImageDraw.Draw(seal)
    c, r = draw_size / 2, draw_size / 2 - 2
    ring = max(2, round(r * 0.06))
    draw.ellipse((c - r, c - r, c + r, c + r), outline=255, width=ring)
    star_r = r * 0.26
    star = [(c + (star_r if i % 2 == 0 else star_r * 0.38) * math.sin(i * math.pi / 5),
             c - (star_r if i % 2 == 0 else star_r * 0.38) * math.cos(i * math.pi / 5))
            for i in range(10)]
    draw.polygon(star, fill=255)
    draw.text((c, c + r * 0.5), label, font=_font(typeface, round(r * 0.17), bold=True),
              fill=255, anchor="mm")
    size = round(r * 0.24)
    font = _font(typeface, size, bold=True)
    span = min(250.0, 24.0 * len(name))  # degrees of arc the name occupies, centred on top
    for i, ch in enumerate(name):
        angle = -span / 2 + span * (i + 0.5) / len(name)
        glyph = Image.new("L", (size * 2, size * 2), 0)
        ImageDraw.Draw(glyph).text((size, size), ch, font=font, fill=255, anchor="mm")
        glyph = glyph.rotate(-angle, resample=Image.Resampling.BICUBIC)
        x = c + r * 0.72 * math.sin(math.radians(angle)) - size
        y = c - r * 0.72 * math.cos(math.radians(angle)) - size
        box = (round(x), round(y), round(x) + 2 * size, round(y) + 2 * size)
        seal.paste(ImageChops.lighter(seal.crop(box), glyph), box)
    return seal


def _rotate_point(x: float, y: float, angle: float, size: tuple[int, int]) -> tuple[float, float]:
    """Where (x, y) lands when a page of ``size`` is turned by ``Image.rotate(angle)``."""
    a, (cx, cy) = math.radians(angle), (size[0] / 2, size[1] / 2)
    return (cx + (x - cx) * math.cos(a) + (y - cy) * math.sin(a),
            cy - (x - cx) * math.sin(a) + (y - cy) * math.cos(a))


def _skew_and_blur(page: Image.Image, degradation: Degradation, tone: int) -> Image.Image:
    # Only the inked area is resampled: blank paper is unchanged by rotation and blur, and
    # full-page resampling would dominate the render time.
    bbox = page.point(lambda v: 255 if v < tone else 0).getbbox()
    if bbox is None or not (degradation.skew_degrees or degradation.blur > 0):
        return page
    box = (max(0, bbox[0] - 8), max(0, bbox[1] - 8),
           min(page.width, bbox[2] + 8), min(page.height, bbox[3] + 8))
    content = page.crop(box)
    if degradation.skew_degrees:
        # bilinear: a third of bicubic's cost, and the scan is blurred afterwards anyway
        content = content.rotate(degradation.skew_degrees, resample=Image.Resampling.BILINEAR,
                                 expand=True, fillcolor=tone)
    if degradation.blur > 0:
        content = content.filter(ImageFilter.GaussianBlur(degradation.blur))
    cx, cy = _rotate_point((box[0] + box[2]) / 2, (box[1] + box[3]) / 2,
                           degradation.skew_degrees, page.size)
    out = Image.new("L", page.size, tone)
    out.paste(content, (round(cx - content.width / 2), round(cy - content.height / 2)))
    return out


def _stamp(page: Image.Image, centre: tuple[float, float], radius: int, name: str, label: str,
           *, typeface: str, degradation: Degradation, rng: random.Random) -> None:
    angle = rng.uniform(-25, 25) + degradation.skew_degrees  # the seal turns with the paper
    seal = _seal(2 * radius, name, label, typeface).rotate(angle, Image.Resampling.BICUBIC)
    if degradation.blur > 0:
        seal = seal.filter(ImageFilter.GaussianBlur(degradation.blur))
    # uneven ink: a coarse random field, upsampled so the seal looks pressed, not printed
    nprng = np.random.default_rng(rng.getrandbits(64))
    field = Image.fromarray((nprng.uniform(0.55, 1.0, (12, 12)) * 255).astype(np.uint8))
    field = np.asarray(field.resize(seal.size, Image.Resampling.BICUBIC), np.float32) / 255
    alpha = np.asarray(seal, np.float32) / 255 * field * rng.uniform(0.75, 0.92)
    x, y = _rotate_point(*centre, degradation.skew_degrees, page.size)
    x0, y0 = round(x - radius), round(y - radius)
    box = (x0, y0, x0 + seal.width, y0 + seal.height)
    region = np.asarray(page.crop(box), np.float32)
    ink = np.array([rng.randint(190, 225), rng.randint(20, 50), rng.randint(30, 60)], np.float32)
    # multiply blend: red ink darkens paper and lets black text show through
    region *= 1 - alpha[..., None] * (1 - ink / 255)
    page.paste(Image.fromarray(region.astype(np.uint8)), box)


def _anchor_rank(line: str) -> int:
    return next((i for i, key in enumerate(_SEAL_ANCHORS) if key in line), len(_SEAL_ANCHORS))


def _draw_lines(draw: ImageDraw.ImageDraw, lines: list[str], *, font: ImageFont.FreeTypeFont,
                top: float, left: float, right: float, ink: int, form_lines: bool,
                seal_radius: float) -> tuple[tuple[float, float], str] | None:
    """Draw body lines in rows of ``_PITCH``; return the seal's centre and the line it signs.

    The seal sits on the row of the first "（盖章）" line (else "（签章）"/"（签字）", else the
    last line), just right of the text of the rows it covers: over the signature space, only
    grazing the names. Pressed over text it hides it from OCR, as tesseract takes the seal and
    everything under it for a picture.
    """
    size = font.size
    pitch, pad, rule = size * _PITCH, _CELL_PAD * size, max(1, round(size * _RULE_EM))
    fields = [_FIELD_RE.match(line) if form_lines else None for line in lines]
    anchor: tuple[float, float, str] | None = None
    label_col, best_rank = 0.0, len(_SEAL_ANCHORS) + 1
    ends: list[tuple[float, float]] = []  # (row centre, x after text) of every line
    for i, (line, match) in enumerate(zip(lines, fields, strict=True)):
        y = top + (i + 0.5) * pitch  # row centre; "lm" anchors keep glyphs centred in the cells
        if match:
            if i == 0 or not fields[i - 1]:  # first row of a form block: size the label column
                j = next((k for k in range(i, len(lines)) if not fields[k]), len(lines))
                label_col = max(font.getlength(m.group(1)) for m in fields[i:j] if m) + 2 * pad
            row = y - pitch / 2
            draw.line((left - pad, row, right, row), fill=_RULE_INK, width=rule)
            if i + 1 == len(lines) or not fields[i + 1]:
                draw.line((left - pad, row + pitch, right, row + pitch), fill=_RULE_INK, width=rule)
            draw.text((left, y), match.group(1), font=font, fill=ink, anchor="lm")
            x = left + label_col
            if x + font.getlength(match.group(2)) > right:  # too long for the column: run on
                x = left + font.getlength(match.group(1))
            draw.text((x, y), match.group(2), font=font, fill=ink, anchor="lm")
            end = x + font.getlength(match.group(2))
        else:
            draw.text((left, y), line, font=font, fill=ink, anchor="lm")
            end = left + font.getlength(line)
        ends.append((y, end))
        rank = _anchor_rank(line)
        # the first line of the best rank wins; without any signature line, the last line
        if rank < best_rank or rank == best_rank == len(_SEAL_ANCHORS):
            anchor, best_rank = (end, y, line), rank
    if anchor is None:
        return None
    end, y, line = anchor
    reach = seal_radius + pitch / 2
    x = max(e for row, e in ends if abs(row - y) < reach) + 0.9 * seal_radius
    return (min(x, right - seal_radius), y), line


def render_page(
    text: str,
    *,
    dpi: int = 300,
    degradation: Degradation = Degradation(),
    rng: random.Random | None = None,
    page_number: int = 1,
    page_count: int = 1,
    typeface: str | None = None,
) -> Image.Image:
    """Draw ``text`` (one line per ``\\n``) on an A4 page; line 1 of page 1 is set as the title.

    ``typeface`` is "sans" or "serif" (default: chosen by ``rng``). A line like "第 1 页 共 3 页"
    at the end becomes the footer. The seal goes on the last page (``page_number == page_count``)
    next to the first "（盖章）" (else "（签章）"/"（签字）") line.
    """
    rng = rng if rng is not None else random.Random(0)  # noqa: S311 - reproducible noise
    typeface = typeface or rng.choice(("sans", "serif"))
    scale = dpi / 300
    width, height = _a4(dpi)
    tone = rng.randint(236, 246)
    ink = rng.randint(8, 30)
    # drawn in greyscale (a third of the pixels to resample); colour comes with tint and seal
    page = Image.new("L", (width, height), tone)
    draw = ImageDraw.Draw(page)

    lines = text.split("\n")
    footer = lines.pop() if lines and _FOOTER_RE.match(lines[-1]) else None
    title = lines.pop(0) if page_number == 1 and lines else None
    left, right, top = _MARGIN_X * scale, width - _MARGIN_X * scale, _MARGIN_TOP * scale
    size = _BODY_PX * scale
    # shrink only text that would not fit; the generated documents never need it
    while size > 12 * scale:
        font = _font(typeface, round(size))
        needed = (len(lines) + (2 if title else 0)) * size * _PITCH
        widest = max((font.getlength(line) for line in lines), default=0)
        if needed <= height - 2 * top and widest <= (right - left) * 0.8:
            break
        size *= 0.92
    font = _font(typeface, round(size))
    if title is not None:
        title_font = _font(typeface, round(size * _TITLE_PX / _BODY_PX), bold=True)
        draw.text((width / 2, top + size * _PITCH), title, font=title_font, fill=ink, anchor="mm")
        top += 2 * size * _PITCH
    radius = round(236 * scale)  # a 40 mm seal
    seal_at = _draw_lines(draw, lines, font=font, top=top, left=left, right=right, ink=ink,
                          form_lines=degradation.form_lines, seal_radius=radius)
    if footer is not None:
        draw.text((width / 2, height - 200 * scale), footer, font=font, fill=ink, anchor="ma")

    page = _skew_and_blur(page, degradation, tone)
    if degradation.noise > 0:
        nprng = np.random.default_rng(rng.getrandbits(64))
        # greyscale grain: sensor noise is not coloured, and JPEG keeps clean chroma cheap
        grain = nprng.standard_normal((height, width), dtype=np.float32) * degradation.noise
        page = Image.fromarray((np.asarray(page, np.float32) + grain).clip(0, 255).astype(np.uint8))
    # off-white, slightly warm paper: lift red and green in proportion to brightness
    page = Image.merge("RGB", [page.point([min(255, round(v * (tone + lift) / tone))
                                           for v in range(256)]) for lift in (5, 3, 0)])

    if degradation.seal and page_number == page_count and seal_at is not None:
        centre, line = seal_at
        # the stamping unit's name goes round the rim, as on a real 公章
        name = line.split("：", 1)[1][:12] if "（盖章）：" in line else ""
        label = "合同专用章" if "合同" in text else "业务专用章"
        _stamp(page, centre, radius, name or "供电营业厅", label, typeface=typeface,
               degradation=degradation, rng=rng)
    if degradation.jpeg_quality is not None:
        buffer = io.BytesIO()
        page.save(buffer, "JPEG", quality=degradation.jpeg_quality)
        page = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    return page


# ----------------------------------------------------------------------------- documents, files

def _document_rng(doc: SampleDocument, seed: int, purpose: str) -> random.Random:
    # str seeds hash with SHA-512, so this is stable across runs and PYTHONHASHSEED
    key = f"{purpose}:{seed}:{doc.customer.account}:{doc.doc_type}:{doc.doc_date.isoformat()}"
    return random.Random(key)  # noqa: S311 - reproducible test data, not secrets


def render_document(
    doc: SampleDocument,
    *,
    dpi: int = 300,
    degradation: Degradation = Degradation(),
    seed: int = 0,
) -> list[Image.Image]:
    """Render every page of ``doc`` in one typeface; the same seed gives the same pixels."""
    rng = _document_rng(doc, seed, "render")
    typeface = rng.choice(("sans", "serif"))
    return [
        render_page(text, dpi=dpi, degradation=degradation, typeface=typeface,
                    rng=random.Random(rng.getrandbits(64)),  # noqa: S311 - see above
                    page_number=number, page_count=len(doc.pages))
        for number, text in enumerate(doc.pages, 1)
    ]


def _write_text_pdf(doc: SampleDocument, path: Path) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    # invariant: no timestamps or random IDs, so the same document gives the same bytes
    pdf = canvas.Canvas(str(path), pagesize=A4, invariant=1)
    pdf.setTitle(doc.title)
    pdf.setSubject(f"{doc.category} / {doc.doc_type}")
    page_width, page_height = A4
    body, pitch, left = 10.0, 10.0 * _PITCH, _MARGIN_X * 72 / 300
    for number, text in enumerate(doc.pages, 1):
        lines = text.split("\n")
        footer = lines.pop() if lines and _FOOTER_RE.match(lines[-1]) else None
        y = page_height - _MARGIN_TOP * 72 / 300 - body
        if number == 1 and lines:
            pdf.setFont("STSong-Light", 15)
            pdf.drawCentredString(page_width / 2, y, lines.pop(0))
            y -= 2 * pitch
        pdf.setFont("STSong-Light", body)
        for line in lines:
            pdf.drawString(left, y, line)
            y -= pitch
        if footer is not None:
            pdf.drawCentredString(page_width / 2, 40, footer)
        pdf.showPage()
    pdf.save()


def write_document(
    doc: SampleDocument,
    path: Path,
    fmt: str,
    *,
    dpi: int = 300,
    degradation: Degradation | None = None,
    seed: int = 0,
) -> Path:
    """Write ``doc`` as ``fmt`` (see ``FORMATS``) to ``path`` and return ``path``.

    ``degradation=None`` means a typical scan drawn from ``seed`` (``Degradation.scanned``).
    Scan formats are JPEG-compressed once, at ``degradation.jpeg_quality`` (default 85);
    "png" keeps the pixels lossless, including any JPEG artefacts asked for.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    if fmt in _SINGLE_IMAGE and len(doc.pages) > 1:
        raise ValueError(f"{fmt} holds one page; {doc.title} has {len(doc.pages)}")
    path = Path(path)
    if fmt == "pdf-text":
        _write_text_pdf(doc, path)
        return path
    if degradation is None:
        degradation = Degradation.scanned(_document_rng(doc, seed, "degrade"))
    quality = degradation.jpeg_quality or 85
    if fmt != "png":  # the container compresses; a second JPEG pass would only blur further
        degradation = replace(degradation, jpeg_quality=None)
    pages = render_document(doc, dpi=dpi, degradation=degradation, seed=seed)
    first, rest = pages[0], pages[1:]
    if fmt == "pdf-scan":
        first.save(path, "PDF", save_all=True, append_images=rest, resolution=float(dpi),
                   quality=quality, title=doc.title)
    elif fmt == "tiff":
        # YCbCr: libtiff would otherwise JPEG-compress R, G and B at full size, 3x the bytes
        first.convert("YCbCr").save(path, "TIFF", save_all=True, compression="jpeg",
                                    append_images=[p.convert("YCbCr") for p in rest],
                                    quality=quality, dpi=(dpi, dpi))
    elif fmt == "jpeg":
        first.save(path, "JPEG", quality=quality, dpi=(dpi, dpi))
    else:
        first.save(path, "PNG", dpi=(dpi, dpi))
    return path


def _pick_format(formats: Sequence[str], index: int, page_count: int) -> str:
    """Cycle through ``formats``, skipping single-image ones for multi-page documents."""
    for step in range(len(formats)):
        fmt = formats[(index + step) % len(formats)]
        if page_count == 1 or fmt not in _SINGLE_IMAGE:
            return fmt
    return "pdf-scan"


def generate_corpus(
    out_dir: Path,
    *,
    count: int,
    seed: int = 0,
    formats: Sequence[str] = ("pdf-scan", "tiff", "jpeg", "pdf-text"),
    degraded: bool = True,
    dpi: int = 300,
) -> list[dict]:
    """Write ``count`` documents (one file each) and ``manifest.json``; return the entries.

    Formats are used in turn; a multi-page document that falls on "jpeg"/"png" takes the next
    format that holds pages (or "pdf-scan"). ``degraded=False`` renders straight, clean scans
    that still carry seals and form lines.
    """
    unknown = set(formats) - set(FORMATS)
    if unknown or not formats:
        raise ValueError(f"formats must be a non-empty subset of {FORMATS}, got {formats!r}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    documents = make_documents(make_customers(count, seed=seed), seed=seed)
    entries: list[dict] = []
    for index, doc in enumerate(documents):
        # shift the format cycle every round of document types so that every type meets
        # every format (types and formats both cycle with period 4 by default)
        fmt = _pick_format(formats, index + index // len(DOC_TYPES), len(doc.pages))
        name = f"{index:04d}-{doc.customer.account}-{_SLUGS[doc.doc_type]}{_EXTENSIONS[fmt]}"
        if fmt == "pdf-text":
            degradation = None
        elif degraded:
            degradation = Degradation.scanned(_document_rng(doc, seed, "degrade"))
        else:
            degradation = Degradation()
        write_document(doc, out_dir / name, fmt, dpi=dpi, degradation=degradation, seed=seed)
        entries.append({
            "path": name, "fmt": fmt, "doc_type": doc.doc_type, "category": doc.category,
            "title": doc.title, "account": doc.customer.account,
            "customer_name": doc.customer.name, "doc_date": doc.doc_date.isoformat(),
            "dpi": None if fmt == "pdf-text" else dpi,
            "degradation": None if degradation is None else asdict(degradation),
            "pages": list(doc.pages),
        })
    manifest = json.dumps(entries, ensure_ascii=False, indent=2)
    (out_dir / "manifest.json").write_text(manifest + "\n", encoding="utf-8")
    return entries
