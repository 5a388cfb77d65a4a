"""The emotion palette: the colour science checked against published figures, then the palette
held to it (every pair apart in normal vision and under the three dichromacies)."""

import itertools

import numpy as np
import pytest

from ser_engine import EMOTIONS
from ser_engine.palette import (
    CVD_MATRICES,
    HATCHES,
    MIN_DELTA_E,
    PREVIOUS_COLOURS,
    UNKNOWN_COLOUR,
    VISIONS,
    colour_for,
    confusable_pairs,
    delta_e_2000,
    hatch_for,
    hatch_name,
    hex_to_rgb,
    lab,
    min_distance,
    palette,
    simulate,
    srgb_to_linear,
    text_colour,
)
from ser_engine.results import NO_SPEECH

# Sharma, Wu & Dalal (2005), Table 1: pairs chosen to exercise every branch of the formula
# (hue wrap-around, a grey with no hue, the blue-region rotation term).
SHARMA = [
    ((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),
    ((50.0, 3.1571, -77.2803), (50.0, 0.0, -82.7485), 2.8615),
    ((50.0, 2.8361, -74.0200), (50.0, 0.0, -82.7485), 3.4412),
    ((50.0, -1.3802, -84.2814), (50.0, 0.0, -82.7485), 1.0000),
    ((50.0, 0.0, 0.0), (50.0, -1.0, 2.0), 2.3669),
    ((50.0, 2.49, -0.001), (50.0, -2.49, 0.0009), 7.1792),
    ((50.0, 2.49, -0.001), (50.0, -2.49, 0.0011), 7.2195),
    ((50.0, 2.5, 0.0), (50.0, 0.0, -2.5), 4.3065),
    ((50.0, 2.5, 0.0), (73.0, 25.0, -18.0), 27.1492),
    ((50.0, 2.5, 0.0), (61.0, -5.0, 29.0), 22.8977),
    ((50.0, 2.5, 0.0), (56.0, -27.0, -3.0), 31.9030),
    ((50.0, 2.5, 0.0), (58.0, 24.0, 15.0), 19.4535),
    ((50.0, 2.5, 0.0), (50.0, 3.1736, 0.5854), 1.0000),
    ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
    ((63.0109, -31.0961, -5.8663), (62.8187, -29.7946, -4.0864), 1.2630),
    ((2.0776, 0.0795, -1.1350), (0.9033, -0.0636, -0.5514), 0.9082),
]


@pytest.mark.parametrize("lab1, lab2, expected", SHARMA)
def test_ciede2000_matches_sharma_table(lab1, lab2, expected):
    assert float(delta_e_2000(np.array(lab1), np.array(lab2))) == pytest.approx(expected, abs=1e-4)
    assert float(delta_e_2000(np.array(lab2), np.array(lab1))) == pytest.approx(expected, abs=1e-4)


def test_ciede2000_broadcasts():
    a = np.array([p[0] for p in SHARMA])
    b = np.array([p[1] for p in SHARMA])
    assert delta_e_2000(a, b) == pytest.approx([p[2] for p in SHARMA], abs=1e-4)


def test_cielab_of_srgb_primaries():
    # reference values of sRGB white, black and the red primary (D65)
    assert lab("#ffffff") == pytest.approx([100.0, 0.0, 0.0], abs=1e-3)
    assert lab("#000000") == pytest.approx([0.0, 0.0, 0.0], abs=1e-6)
    assert lab("#ff0000") == pytest.approx([53.24, 80.09, 67.20], abs=0.01)
    assert srgb_to_linear(np.array([0.5])) == pytest.approx([0.21404], abs=1e-5)


@pytest.mark.parametrize("vision", list(CVD_MATRICES))
def test_simulation_keeps_greys_and_merges_the_lost_axis(vision):
    for v in (0.0, 0.25, 0.6, 1.0):  # a dichromat sees greys as greys
        grey = simulate(np.array([v, v, v]), vision)
        assert grey == pytest.approx(np.full(3, srgb_to_linear(np.array(v))), abs=2e-3)
    # the classic confusion of each deficiency comes much closer than in normal vision
    pair = ("#ff0000", "#00b000") if vision != "tritanopia" else ("#0000ff", "#00a000")
    normal = float(delta_e_2000(lab(pair[0]), lab(pair[1])))
    seen = float(delta_e_2000(lab(pair[0], vision), lab(pair[1], vision)))
    assert seen < normal / 2


def test_palette_stays_apart_in_every_vision():
    colours = palette()
    assert list(colours) == [*EMOTIONS, NO_SPEECH]
    assert confusable_pairs(colours) == []
    for vision in VISIONS:
        assert min_distance(colours, vision)[0] >= MIN_DELTA_E


def test_previous_palette_fails_where_the_issue_said():
    # issue 20: red angry vs olive disgust, blue sad vs teal calm
    close = {(v, a, b) for v, a, b, _ in confusable_pairs(PREVIOUS_COLOURS)}
    assert ("deuteranopia", "angry", "disgust") in close
    assert ("tritanopia", "calm", "sad") in close
    assert min(min_distance(PREVIOUS_COLOURS, v)[0] for v in VISIONS) < MIN_DELTA_E / 3


def test_palette_is_distinct_from_the_previous_one():
    assert palette() != PREVIOUS_COLOURS
    assert all(c == c.lower() and len(c) == 7 and c.startswith("#") for c in palette().values())


def test_labels_outside_the_palette():
    assert colour_for("frustrated") == UNKNOWN_COLOUR and hatch_for("frustrated") == ""
    assert hatch_name("frustrated") == "none"
    assert colour_for(NO_SPEECH) == palette()[NO_SPEECH]


def test_every_emotion_has_its_own_pattern():
    patterned = [e for e in EMOTIONS if hatch_for(e)]
    assert len(patterned) == len(EMOTIONS) - 1  # neutral is the plain one
    assert len({hatch_for(e) for e in patterned}) == len(patterned)
    assert len({hatch_name(e) for e in patterned}) == len(patterned)
    assert set(HATCHES) == set(EMOTIONS) | {NO_SPEECH}


def _contrast(a, b):
    la, lb = (float(srgb_to_linear(hex_to_rgb(c)) @ [0.2126729, 0.7151522, 0.0721750]) for c in (a, b))
    hi, lo = max(la, lb), min(la, lb)
    return (hi + 0.05) / (lo + 0.05)


def test_label_text_is_readable_on_every_colour():
    for colour in palette().values():
        ink = text_colour(colour)
        other = "#ffffff" if ink == "#000000" else "#000000"
        assert _contrast(ink, colour) >= _contrast(other, colour)
        assert _contrast(ink, colour) >= 4.5  # WCAG 2 AA for normal text


def test_hex_parsing():
    assert hex_to_rgb("#ff8000") == pytest.approx([1.0, 128 / 255, 0.0])
    with pytest.raises(ValueError):
        hex_to_rgb("#fff")


def test_distances_are_symmetric_and_cover_every_pair():
    from ser_engine.palette import distances

    d = distances(palette(), "deuteranopia")
    assert len(d) == len(list(itertools.combinations(palette(), 2)))
    a, b = next(iter(d))
    assert d[(a, b)] == pytest.approx(float(delta_e_2000(lab(palette()[b], "deuteranopia"),
                                                         lab(palette()[a], "deuteranopia"))))
