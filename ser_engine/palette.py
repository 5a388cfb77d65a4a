"""The emotion palette: one colour and one hatch per emotion, safe for colour-blind readers.

Every view (the window's queue, timeline, bars and summary chart; the PDF session report)
takes its emotion colours from here, so an emotion looks the same everywhere. This module is
Qt-free: colours are ``"#rrggbb"`` strings, hatches are matplotlib hatch strings with a name.

Why these colours
-----------------
The palette was chosen so that every pair of its nine colours (eight emotions and "no speech")
stays apart for readers with normal vision *and* under simulated protanopia, deuteranopia and
tritanopia (the three dichromacies, the far end of each colour-vision deficiency). "Apart" is
measured, not judged by eye: :func:`min_distance` is the smallest CIEDE2000 difference over all
pairs and all four visions, and :data:`MIN_DELTA_E` is the floor the tests hold it to. The
colours were found by a search, not by eye: each emotion kept to a hue and lightness range with
its usual meaning (angry red, sad blue, happy yellow, calm cyan, fearful purple, disgust green,
surprised orange-pink, neutral grey; "no speech" a pale grey), a coordinate ascent over an sRGB
grid maximised the smallest difference, then single steps of the channels refined it (best
found about 17; the ranges cost a little). Dichromats keep one colour axis and lightness, so the
palette spreads lightness widely: red angry and green disgust, or blue sad and cyan calm, no
longer collapse to one colour as they did in the palette this one replaced
(:data:`PREVIOUS_COLOURS`, kept for the tests and the record).

Colour alone never carries meaning: each emotion also has a hatch (:data:`HATCHES`, drawn by
the report and available to any view) and the label text goes beside it wherever there is room.

The simulation (Machado, Oliveira & Fernandes 2009)
---------------------------------------------------
"A physiologically-based model for simulation of color vision deficiency", IEEE TVCG 15(6):
1291-1298. A dichromat's view of a linear-light RGB colour is one 3x3 matrix per deficiency
(severity 1.0, the matrices the authors published for sRGB displays). The steps:
sRGB -> linear RGB (IEC 61966-2-1 transfer curve) -> matrix -> clipped to [0, 1] -> CIE XYZ (D65)
-> CIELAB (D65 white).

The distance (CIEDE2000)
------------------------
CIE 2000 colour difference (Luo, Cui & Rigg 2001), with the formula as written out by Sharma, Wu
& Dalal 2005, "The CIEDE2000 color-difference formula: implementation notes, supplementary test
data and mathematical observations", Color Res. Appl. 30(1): 21-30 (their test pairs are in the
tests). With ``kL = kC = kH = 1``::

    C*_i = hypot(a*_i, b*_i);  C̄ = mean(C*_1, C*_2)
    G = 0.5 (1 - sqrt(C̄^7 / (C̄^7 + 25^7)));   a'_i = (1 + G) a*_i
    C'_i = hypot(a'_i, b*_i);  h'_i = atan2(b*_i, a'_i) mod 360°
    ΔL' = L*_2 - L*_1;  ΔC' = C'_2 - C'_1;  ΔH' = 2 sqrt(C'_1 C'_2) sin(Δh'/2)
    S_L = 1 + 0.015 (L̄' - 50)^2 / sqrt(20 + (L̄' - 50)^2);  S_C = 1 + 0.045 C̄';  S_H = 1 + 0.015 C̄' T
    T = 1 - 0.17 cos(h̄' - 30°) + 0.24 cos(2h̄') + 0.32 cos(3h̄' + 6°) - 0.20 cos(4h̄' - 63°)
    R_T = -sin(2Δθ) 2 sqrt(C̄'^7 / (C̄'^7 + 25^7)),  Δθ = 30° exp(-((h̄' - 275°) / 25°)^2)
    ΔE00 = sqrt((ΔL'/S_L)^2 + (ΔC'/S_C)^2 + (ΔH'/S_H)^2 + R_T (ΔC'/S_C)(ΔH'/S_H))

No colour-science library is installed in the project (colorspacious, colour-science and
daltonlens are not dependencies), and both formulas are a few lines of NumPy, so they live here.
A ΔE00 of about 1 is a just-noticeable difference side by side; colours that must be told apart
as small marks on a timeline, not side by side, need many times that (:data:`MIN_DELTA_E`).
"""

from __future__ import annotations

import itertools

import numpy as np

from . import EMOTIONS
from .results import NO_SPEECH

#: The palette: one colour per emotion and "no speech" (lower-case ``#rrggbb``).
EMOTION_COLOURS: dict[str, str] = {
    "neutral": "#787783",    # cool grey
    "calm": "#00bece",       # cyan
    "happy": "#ffe900",      # yellow
    "sad": "#005ef6",        # blue
    "angry": "#e5224f",      # crimson
    "fearful": "#5a2d5a",    # dark plum
    "disgust": "#23690e",    # dark green
    "surprised": "#fba28a",  # salmon
}
#: Silence and non-speech: a pale cool grey that reads as "nothing here" beside any emotion.
NO_SPEECH_COLOUR = "#e8e8ec"
#: A label the palette does not know (e.g. a clinician's own word from an imported file).
UNKNOWN_COLOUR = "#b0b0b0"

#: The palette before issue 20 (desktop/colours.py): red angry and olive disgust collapse under
#: deuteranopia (ΔE00 3.0), blue sad and teal calm under tritanopia (10.6), and five more pairs
#: fall below :data:`MIN_DELTA_E`. Kept so that the tests show the measurement tells the two apart.
PREVIOUS_COLOURS: dict[str, str] = {
    "neutral": "#8d99a6",
    "calm": "#26a69a",
    "happy": "#f2b705",
    "sad": "#3f7fd9",
    "angry": "#d7263d",
    "fearful": "#8e44ad",
    "disgust": "#6b8e23",
    "surprised": "#f5793a",
    NO_SPEECH: "#e3e3e3",
}

#: Hatch per emotion for places where colour alone would carry meaning: ``(name, matplotlib
#: hatch)``. The names are for views that draw their own patterns: each has a Qt brush style
#: of its own (horizontal, vertical, grid, the two diagonals, their cross, dots).
HATCHES: dict[str, tuple[str, str]] = {
    "neutral": ("none", ""),
    "calm": ("horizontal", "--"),
    "happy": ("dots", ".."),
    "sad": ("vertical", "||"),
    "angry": ("cross-diagonal", "xx"),
    "fearful": ("diagonal-up", "//"),
    "disgust": ("diagonal-down", "\\\\"),
    "surprised": ("grid", "++"),
    NO_SPEECH: ("none", ""),
}

#: The smallest CIEDE2000 difference any two palette colours may have, in any of the four
#: visions (normal, protanopia, deuteranopia, tritanopia): fifteen times a just-noticeable
#: difference, for marks seen apart rather than side by side. This palette's closest pairs are
#: 15.1 (calm / no speech, protanopia) and 15.6 (happy / no speech, tritanopia); the previous
#: one fell to 3.0 (angry / disgust, deuteranopia) and 10.6 (calm / sad, tritanopia).
MIN_DELTA_E = 15.0

#: Machado et al. 2009, severity 1.0: linear RGB -> linear RGB as a dichromat sees it.
CVD_MATRICES: dict[str, np.ndarray] = {
    "protanopia": np.array([[0.152286, 1.052583, -0.204868],
                            [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968],
                              [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "tritanopia": np.array([[1.255528, -0.076749, -0.178779],
                            [-0.078411, 0.930809, 0.147602],
                            [0.004733, 0.691367, 0.303900]]),
}
VISIONS = ("normal", *CVD_MATRICES)

# linear sRGB -> CIE XYZ, D65 (IEC 61966-2-1)
_RGB_TO_XYZ = np.array([[0.4124564, 0.3575761, 0.1804375],
                        [0.2126729, 0.7151522, 0.0721750],
                        [0.0193339, 0.1191920, 0.9503041]])
_D65 = _RGB_TO_XYZ.sum(axis=1)  # the white point: XYZ of linear RGB (1, 1, 1)


def palette() -> dict[str, str]:
    """Every emotion's colour, then "no speech", in the model's label order."""
    return {**{e: EMOTION_COLOURS[e] for e in EMOTIONS}, NO_SPEECH: NO_SPEECH_COLOUR}


def colour_for(label: str) -> str:
    """The ``#rrggbb`` colour of ``label`` (an emotion, "no speech", or anything else: grey)."""
    if label == NO_SPEECH:
        return NO_SPEECH_COLOUR
    return EMOTION_COLOURS.get(label, UNKNOWN_COLOUR)


def hatch_for(label: str) -> str:
    """The matplotlib hatch of ``label`` ("" for no speech and for labels outside the palette)."""
    return HATCHES.get(label, ("none", ""))[1]


def hatch_name(label: str) -> str:
    """The hatch's name (``"cross-diagonal"``, ...; ``"none"`` where there is no hatch)."""
    return HATCHES.get(label, ("none", ""))[0]


def text_colour(colour: str) -> str:
    """``"#000000"`` or ``"#ffffff"``, whichever has the higher WCAG 2 contrast on ``colour``.

    Contrast is ``(L1 + 0.05) / (L2 + 0.05)`` of the relative luminances ``L = 0.2126 R +
    0.7152 G + 0.0722 B`` (linear light); black wins when ``L > sqrt(1.05 * 0.05) - 0.05``.
    """
    luminance = float(srgb_to_linear(hex_to_rgb(colour)) @ _RGB_TO_XYZ[1])
    return "#000000" if (luminance + 0.05) ** 2 > 1.05 * 0.05 else "#ffffff"


def hex_to_rgb(colour: str) -> np.ndarray:
    """``"#rrggbb"`` -> sRGB in [0, 1], shape (3,)."""
    text = colour.lstrip("#")
    if len(text) != 6:
        raise ValueError(f"{colour!r} is not a #rrggbb colour")
    return np.array([int(text[i:i + 2], 16) for i in (0, 2, 4)], dtype=float) / 255.0


def srgb_to_linear(rgb: np.ndarray) -> np.ndarray:
    """The sRGB transfer curve undone: encoded values in [0, 1] -> linear light, same shape."""
    rgb = np.asarray(rgb, dtype=float)
    return np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)


def simulate(rgb: np.ndarray, vision: str) -> np.ndarray:
    """How a dichromat sees sRGB colours (Machado et al. 2009, severity 1.0).

    Parameters
    ----------
    rgb : ndarray, shape (..., 3)
        sRGB in [0, 1].
    vision : str
        ``"normal"`` (returned unchanged), ``"protanopia"``, ``"deuteranopia"`` or ``"tritanopia"``.

    Returns
    -------
    ndarray, shape (..., 3)
        *Linear* RGB in [0, 1] (out-of-gamut results clipped, as a display would).
    """
    lin = srgb_to_linear(rgb)
    if vision == "normal":
        return lin
    return np.clip(lin @ CVD_MATRICES[vision].T, 0.0, 1.0)


def linear_to_lab(lin: np.ndarray) -> np.ndarray:
    """Linear RGB, shape (..., 3) -> CIELAB (D65 white), shape (..., 3)."""
    xyz = np.asarray(lin, dtype=float) @ _RGB_TO_XYZ.T / _D65
    eps, kappa = 216 / 24389, 24389 / 27
    f = np.where(xyz > eps, np.cbrt(xyz), (kappa * xyz + 16) / 116)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], axis=-1)


def lab(colour: str, vision: str = "normal") -> np.ndarray:
    """The CIELAB coordinates of ``colour`` as seen with ``vision``, shape (3,)."""
    return linear_to_lab(simulate(hex_to_rgb(colour), vision))


def delta_e_2000(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    """CIEDE2000 colour difference (kL = kC = kH = 1) between CIELAB colours.

    Parameters
    ----------
    lab1, lab2 : ndarray, shape (..., 3)
        Broadcast against each other.

    Returns
    -------
    ndarray, shape (...)
        The formula is written out in the module docstring (Sharma et al. 2005).
    """
    lab1, lab2 = np.asarray(lab1, dtype=float), np.asarray(lab2, dtype=float)
    L1, a1, b1 = lab1[..., 0], lab1[..., 1], lab1[..., 2]
    L2, a2, b2 = lab2[..., 0], lab2[..., 1], lab2[..., 2]
    c_bar = (np.hypot(a1, b1) + np.hypot(a2, b2)) / 2
    g = 0.5 * (1 - np.sqrt(c_bar**7 / (c_bar**7 + 25.0**7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    # a grey has no hue: its angle is taken as 0 (Sharma et al., eq. 7)
    h1p = np.where((a1p == 0) & (b1 == 0), 0.0, np.degrees(np.arctan2(b1, a1p)) % 360)
    h2p = np.where((a2p == 0) & (b2 == 0), 0.0, np.degrees(np.arctan2(b2, a2p)) % 360)
    dlp = L2 - L1
    dcp = c2p - c1p
    chroma_zero = c1p * c2p == 0
    dh = h2p - h1p
    dh = np.where(dh > 180, dh - 360, np.where(dh < -180, dh + 360, dh))
    dh = np.where(chroma_zero, 0.0, dh)
    dHp = 2 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh) / 2)
    l_bar = (L1 + L2) / 2
    cp_bar = (c1p + c2p) / 2
    hsum = h1p + h2p
    h_bar = np.where(np.abs(h1p - h2p) <= 180, hsum / 2, np.where(hsum < 360, (hsum + 360) / 2, (hsum - 360) / 2))
    h_bar = np.where(chroma_zero, hsum, h_bar)
    t = (1 - 0.17 * np.cos(np.radians(h_bar - 30)) + 0.24 * np.cos(np.radians(2 * h_bar))
         + 0.32 * np.cos(np.radians(3 * h_bar + 6)) - 0.20 * np.cos(np.radians(4 * h_bar - 63)))
    d_theta = 30 * np.exp(-(((h_bar - 275) / 25) ** 2))
    r_c = 2 * np.sqrt(cp_bar**7 / (cp_bar**7 + 25.0**7))
    s_l = 1 + 0.015 * (l_bar - 50) ** 2 / np.sqrt(20 + (l_bar - 50) ** 2)
    s_c = 1 + 0.045 * cp_bar
    s_h = 1 + 0.015 * cp_bar * t
    r_t = -np.sin(np.radians(2 * d_theta)) * r_c
    return np.sqrt((dlp / s_l) ** 2 + (dcp / s_c) ** 2 + (dHp / s_h) ** 2 + r_t * (dcp / s_c) * (dHp / s_h))


def distances(colours: dict[str, str], vision: str = "normal") -> dict[tuple[str, str], float]:
    """CIEDE2000 between every pair of ``colours`` (label -> ``#rrggbb``) as seen with ``vision``."""
    labs = {k: lab(v, vision) for k, v in colours.items()}
    return {(a, b): float(delta_e_2000(labs[a], labs[b])) for a, b in itertools.combinations(colours, 2)}


def min_distance(colours: dict[str, str], vision: str = "normal") -> tuple[float, tuple[str, str]]:
    """The closest pair of ``colours`` seen with ``vision``: ``(ΔE00, (label, label))``."""
    pairs = distances(colours, vision)
    pair = min(pairs, key=lambda k: pairs[k])
    return pairs[pair], pair


def confusable_pairs(colours: dict[str, str], threshold: float = MIN_DELTA_E) -> list[tuple[str, str, str, float]]:
    """Every ``(vision, label, label, ΔE00)`` closer than ``threshold``, in any vision."""
    out = []
    for vision in VISIONS:
        for (a, b), d in distances(colours, vision).items():
            if d < threshold:
                out.append((vision, a, b, d))
    return out


__all__ = ["CVD_MATRICES", "EMOTION_COLOURS", "HATCHES", "MIN_DELTA_E", "NO_SPEECH_COLOUR", "PREVIOUS_COLOURS",
           "UNKNOWN_COLOUR", "VISIONS", "colour_for", "confusable_pairs", "delta_e_2000", "distances", "hatch_for",
           "hatch_name", "hex_to_rgb", "lab", "linear_to_lab", "min_distance", "palette", "simulate",
           "srgb_to_linear", "text_colour"]
