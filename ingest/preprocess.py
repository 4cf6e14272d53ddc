"""Clean a page image up before OCR: drop red seals, turn the page upright, straighten skew.

- Red seals and letterheads (公章) overprint text; in the red channel red ink is light while
  black text stays dark. Light is not white, though: PP-OCR still read the seal's own text
  ("业务专用章") off every sealed page of the red channel alone. Adding the red excess R−G
  lifts red ink to paper white and leaves black, grey and blue ink (R ≤ G) as they were.
- Orientation: pages fed upside down or sideways. PP-OCR's text detector finds the text lines
  on a small copy (lines taller than wide: the page lies sideways) and its text-direction
  classifier votes, line by line, on whether they read upside down. Tesseract's OSD was tried
  first and measured on the generated Chinese pages: it needs ~1.4 s of CPU a page for a usable
  answer (two thirds of the time PP-OCR takes to read the page) and still took ruled forms
  turned by 90° for upright; at cheaper settings it mistook a quarter of the upright and
  upside-down pages for each other, and on a blank page it fails. The PP-OCR models (in the
  rapidocr-onnxruntime wheel) got every turn of the same pages right in ~0.2 s.
- Skew is estimated from the ink's horizontal projection profile: text lines are sharpest
  (the row sums vary most) when the page is straight. A coarse search over ±``MAX_SKEW``
  is refined around the best angle, on a downscaled copy; each angle's profile is counted
  from the ink's coordinates, not from a rotated image, so the search takes milliseconds.

Public surface: :func:`prepare_for_ocr`, :func:`detect_orientation`, :func:`estimate_skew`,
:func:`straighten`, :class:`Prepared`.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageChops

from ingest.ocr import ppocr_models

logger = logging.getLogger(__name__)

MAX_SKEW = 5.0  # degrees; scanners and feeders rarely do worse
_WORK_SIZE = 1600  # long side of the copy the angle is estimated on
# Orientation is found on a copy this long (512 px on the short side of A4): half the
# pixels the reading engine detects on, and still every generated page right by a wide margin.
_ORIENTATION_SIZE = 724
_MIN_LINES = 3  # fewer text lines than this: too little to tell, leave the page as it is
_MAX_VOTES = 20  # the longest lines vote; enough for a clear answer on a dense table too
_MIN_VOTE = 0.3  # mean of P(180°) − P(0°) over the voting lines needed to turn a page over


@dataclass(frozen=True)
class Prepared:
    image: Image.Image  # grayscale, upright, straightened
    skew_degrees: float  # the rotation applied (counter-clockwise, degrees)
    orientation: int = 0  # the quarter turn applied first (0/90/180/270, counter-clockwise)


def straighten(image: Image.Image, orientation: int, skew: float, fill: int | tuple = 255
               ) -> Image.Image:
    """Apply a page's geometry to an "L" or "RGB" page: the quarter turn, then the skew on
    the same canvas, about its centre. The access copy applies it to the colour page so OCR
    boxes fall on its text. OpenCV turns the skew: bicubic as Pillow's, in a fifth of the
    time (Pillow took 0.25 s for a grey A4 page at 300 dpi, 0.6 s in colour)."""
    import cv2

    if orientation % 360:
        image = image.rotate(orientation % 360, expand=True)
    if abs(skew) >= 0.15:
        pixels = np.asarray(image)
        height, width = pixels.shape[:2]
        turn = cv2.getRotationMatrix2D(((width - 1) / 2, (height - 1) / 2), skew, 1.0)
        border = (fill,) * 3 if isinstance(fill, int) else fill
        image = Image.fromarray(cv2.warpAffine(pixels, turn, (width, height),
                                               flags=cv2.INTER_CUBIC, borderValue=border))
    return image


def _drop_red(image: Image.Image) -> Image.Image:
    """Grayscale page with red ink (seals, red letterheads) turned to paper white."""
    if image.mode != "RGB":
        return image.convert("L")
    red = image.getchannel("R")
    return ImageChops.add(red, ImageChops.subtract(red, image.getchannel("G")))


def _turn_from_lines(boxes: np.ndarray, votes: list[tuple[str, float]]) -> int:
    """The page's quarter turn from its line boxes and the direction votes of its lines."""
    heights = np.linalg.norm(boxes[:, 0] - boxes[:, 3], axis=1)
    widths = np.linalg.norm(boxes[:, 0] - boxes[:, 1], axis=1)
    tall, wide = int(np.sum(heights > 1.5 * widths)), int(np.sum(widths > 1.5 * heights))
    if tall + wide < _MIN_LINES or max(tall, wide) < 2 * min(tall, wide):
        return 0
    flip = np.mean([score if label == "180" else 1 - score for label, score in votes]) * 2 - 1
    # RapidOCR gives tall lines a quarter turn counter-clockwise before the classifier sees
    # them, so a tall line that then reads upright lay on a page turned clockwise.
    sideways, upside_down = tall > wide, flip > _MIN_VOTE
    return {(False, False): 0, (False, True): 180, (True, False): 90, (True, True): 270}[
        (sideways, upside_down)]


def detect_orientation(gray: Image.Image) -> int:
    """The counter-clockwise quarter turn (0/90/180/270) that makes the page upright.

    0 when the page has too little text to tell, its lines lie both ways, or the models
    fail; not turned over unless the lines clearly vote for it: a page left as scanned is
    still read, only worse, while a wrong turn would lose it.
    """
    small = gray.convert("L")
    small.thumbnail((_ORIENTATION_SIZE, _ORIENTATION_SIZE))
    pixels = np.repeat(np.asarray(small)[..., None], 3, axis=2)  # RapidOCR's parts take BGR
    try:
        ocr, lock = ppocr_models()
        with lock:
            boxes, _ = ocr.text_det(pixels)
            if boxes is None or len(boxes) < _MIN_LINES:
                return 0
            longest = sorted(boxes, key=lambda b: -np.ptp(b, axis=0).max())[:_MAX_VOTES]
            _, votes, _ = ocr.text_cls(ocr.get_crop_img_list(pixels, longest))
    except Exception:  # best effort, see above; the log says why
        logger.warning("orientation detection failed; page left as scanned", exc_info=True)
        return 0
    return _turn_from_lines(np.asarray(longest), votes)


def _profile_sharpness(ys: np.ndarray, xs: np.ndarray, angle: float) -> float:
    """How sharply the row sums of the ink at (``ys``, ``xs``) rise and fall once the page
    is turned by ``angle`` degrees (counter-clockwise, as ``Image.rotate``)."""
    radians = np.radians(angle)
    rows = np.rint(ys * np.cos(radians) - xs * np.sin(radians)).astype(np.int64)
    profile = np.bincount(rows - rows.min())
    return float(np.square(np.diff(profile)).sum())


def estimate_skew(gray: Image.Image) -> float:
    """The rotation (degrees) that makes the text lines of ``gray`` horizontal."""
    small = gray.copy()
    small.thumbnail((_WORK_SIZE, _WORK_SIZE))
    pixels = np.asarray(small, dtype=np.uint8)
    threshold = min(160, int(pixels.mean()) - 40)
    ys, xs = np.nonzero(pixels < threshold)
    if len(ys) < 100:  # blank page: nothing to straighten
        return 0.0
    sharpness = functools.partial(_profile_sharpness, ys.astype(np.float64),
                                  xs.astype(np.float64))
    # coarse steps of 0.25°: at 0.5° the search missed the peak by 0.6° now and then
    best = max(np.arange(-MAX_SKEW, MAX_SKEW + 0.01, 0.25), key=lambda a: sharpness(float(a)))
    fine = np.arange(best - 0.2, best + 0.21, 0.05)
    return round(float(max(fine, key=lambda a: sharpness(float(a)))), 2)


def prepare_for_ocr(image: Image.Image) -> Prepared:
    """The page as OCR should see it: grey without red ink, upright, straight; with the
    turn and skew applied, for :func:`straighten` to repeat on the colour page."""
    gray = _drop_red(image)
    orientation = detect_orientation(gray)
    upright = straighten(gray, orientation, 0.0)
    angle = estimate_skew(upright)
    return Prepared(straighten(upright, 0, angle), angle, orientation)
