#!/usr/bin/env python3
"""Derives the band reflectances `rstrain synth` paints its scenes with, from measured spectra.

Source: earthlib's spectral library (PyPI `earthlib`, MIT licence, (c) 2023 Christopher Anderson):
7,261 spectra (soil, vegetation canopy, built surfaces, non-photosynthetic vegetation, burned),
0.40-2.45 um at 10 nm, in `earthlib/data/spectra.sli` (ENVI, float32) with labels in
`earthlib/data/spectra.csv`. Band centres and widths (FWHM) for Sentinel-2 and Landsat 8 are the
ones in `earthlib/sensors.py`; spectra are resampled with Gaussian band responses of those widths,
as earthlib itself does (`Spectra.resample`, spectral's BandResampler).

earthlib has no water. Clear water is added by rule: dark, 0.02-0.06 in the visible (brightest in
the blue-green), falling to near 0 in the NIR and SWIR (see `WATER_KNOTS`).

Writes
  scripts/data/class_spectra.csv                 the table, with its provenance in '#' header lines
  Sources/DataIO/Synth/ClassSpectraTable.swift   the same numbers as Swift literals (generated)

Usage
  python3 scripts/class_spectra.py [--wheel earthlib-1.1.0-py3-none-any.whl]
Without --wheel it runs `python3 -m pip download --no-deps earthlib==1.1.0` into a temporary
directory. The wheel is read as a zip; earthlib need not be installed. Needs numpy.
"""
import argparse
import csv
import io
import os
import re
import subprocess
import sys
import tempfile
import zipfile

import numpy as np

EARTHLIB_VERSION = "1.1.0"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CSV_OUT = os.path.join(ROOT, "scripts", "data", "class_spectra.csv")
SWIFT_OUT = os.path.join(ROOT, "Sources", "DataIO", "Synth", "ClassSpectraTable.swift")

# Bands: rstrain's names, with earthlib's name, centre and FWHM (um) from earthlib/sensors.py.
# Order is spectral (So2Sat's sen2 order for Sentinel-2). Checked against sensors.py below.
SENSORS = {
    "sentinel2": ("Sentinel2", [("B02", "B2"), ("B03", "B3"), ("B04", "B4"), ("B05", "B5"), ("B06", "B6"),
                                ("B07", "B7"), ("B08", "B8"), ("B8A", "B8A"), ("B11", "B11"), ("B12", "B12")]),
    "landsat": ("Landsat8", [("B2", "SR_B2"), ("B3", "SR_B3"), ("B4", "SR_B4"), ("B5", "SR_B5"),
                             ("B6", "SR_B6"), ("B7", "SR_B7")]),
}

# Clear water by rule (um, reflectance): piecewise linear between knots.
WATER_KNOTS = [(0.40, 0.050), (0.49, 0.055), (0.56, 0.050), (0.60, 0.035), (0.665, 0.025),
               (0.70, 0.015), (0.75, 0.008), (0.80, 0.005), (0.90, 0.003), (1.00, 0.002), (2.50, 0.001)]
WATER_REL_STD = 0.15  # turbidity, depth, algae: a little variation around the rule

# Materials: groups of earthlib spectra, selected by the library's LEVEL_3 labels (and NDVI for
# the simulated canopies). Each is one row per band: the mean and standard deviation over its
# spectra.
def ndvi(s, w):
    red = s[:, np.argmin(abs(w - 0.665))]
    nir = s[:, np.argmin(abs(w - 0.835))]
    return (nir - red) / np.maximum(nir + red, 1e-6)

MATERIALS = [
    # name, LEVEL_3 labels, extra filter (spectra, wavelengths) -> mask, what it stands for
    ("veg_dense", {"canopy"}, lambda s, w: ndvi(s, w) >= 0.88, "closed green canopy (NDVI >= 0.88)"),
    ("veg_moderate", {"canopy"}, lambda s, w: (ndvi(s, w) >= 0.75) & (ndvi(s, w) < 0.88), "green canopy, NDVI 0.75-0.88"),
    ("veg_sparse", {"canopy"}, lambda s, w: ndvi(s, w) < 0.75, "open canopy, NDVI < 0.75"),
    ("soil", {"soil"}, None, "measured bare soils"),
    ("sand", {"sand"}, None, "measured sands"),
    ("npv", {"litter", "npv", "bark", "wood"}, None, "dry plant matter: litter, bark, wood"),
    ("roof", {"comp_shingle", "tile", "concrete_tile", "metal", "wood_shingle"}, None, "roofing materials"),
    ("pavement", {"asphalt", "road", "parking_lot", "sidewalk", "driveway"}, None, "roads, parking, sidewalks"),
    ("gravel", {"gravel"}, None, "gravel (built and bare)"),
    ("char", {"char"}, None, "burned ground"),
    ("water", None, None, "clear water, by rule (not in earthlib)"),
]

# Land-cover classes (label values 1..K, in this order): linear mixtures of materials, at the
# peak of the growing season and when dormant. Phenology (rstrain's Phenology.swift) moves each
# pixel between the two states along its class's season curve.
CLASSES = [
    ("water", {"water": 1.0}, {"water": 1.0}),
    ("forest", {"veg_dense": 1.0}, {"veg_dense": 0.5, "npv": 0.5}),
    ("cropland", {"veg_moderate": 0.85, "soil": 0.15}, {"soil": 0.85, "npv": 0.15}),
    ("grassland", {"veg_moderate": 0.8, "npv": 0.2}, {"veg_moderate": 0.35, "npv": 0.65}),
    ("urban", {"roof": 0.4, "pavement": 0.4, "veg_moderate": 0.2}, {"roof": 0.4, "pavement": 0.4, "npv": 0.2}),
    ("bare_soil", {"soil": 1.0}, {"soil": 1.0}),
    ("sand", {"sand": 1.0}, {"sand": 1.0}),
    ("shrubland", {"veg_sparse": 0.55, "npv": 0.25, "soil": 0.2}, {"veg_sparse": 0.25, "npv": 0.45, "soil": 0.3}),
]


def fetch_wheel(path):
    if path:
        return path
    tmp = tempfile.mkdtemp(prefix="earthlib-")
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                    f"earthlib=={EARTHLIB_VERSION}", "-d", tmp], check=True)
    return os.path.join(tmp, next(f for f in os.listdir(tmp) if f.endswith(".whl")))


def read_library(wheel):
    z = zipfile.ZipFile(wheel)
    hdr = z.read("earthlib/data/spectra.sli.hdr").decode()
    field = lambda k: re.search(k + r"\s*=\s*(.*)", hdr).group(1).strip()
    samples, lines = int(field("samples")), int(field("lines"))
    assert field("data type") == "4" and field("byte order") == "0", "expected little-endian float32"
    wl = np.array([float(x) for x in re.search(r"wavelength\s*=\s*\{([^}]*)\}", hdr).group(1).split(",")])
    names = [n.strip() for n in re.search(r"spectra names\s*=\s*\{([^}]*)\}", hdr).group(1).split(",")]
    spectra = np.frombuffer(z.read("earthlib/data/spectra.sli"), dtype="<f4").reshape(lines, samples).astype(np.float64)
    meta = list(csv.DictReader(io.StringIO(z.read("earthlib/data/spectra.csv").decode())))
    assert len(meta) == lines == len(names) and len(wl) == samples
    mismatched = sum(n != m["NAME"] for n, m in zip(names, meta))
    assert mismatched <= 2, f"{mismatched} spectra names differ between spectra.csv and the header"
    sensors = z.read("earthlib/sensors.py").decode()
    return wl, spectra, meta, sensors


def sensor_bands(sensors_py, sensor, names):
    """Band centres and widths of `sensor` as written in earthlib's sensors.py."""
    block = re.search(rf"\n{sensor} = Sensor\((.*?)\n\)", sensors_py, re.S).group(1)
    get = lambda key: re.search(rf"{key}=\[(.*?)\]", block, re.S).group(1)
    bnames = [s.strip().strip('"') for s in get("band_names").split(",") if s.strip()]
    centres = [float(s) for s in get("band_centers").split(",") if s.strip()]
    widths = [float(s) for s in get("band_widths").split(",") if s.strip()]
    idx = [bnames.index(n) for _, n in names]
    return np.array([centres[i] for i in idx]), np.array([widths[i] for i in idx])


def response(wl, centres, fwhm):
    """Gaussian band responses (bands x wavelengths), each normalised over the library's samples."""
    sigma = fwhm / (2 * np.sqrt(2 * np.log(2)))
    r = np.exp(-0.5 * ((wl[None, :] - centres[:, None]) / sigma[:, None]) ** 2)
    return r / r.sum(axis=1, keepdims=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--wheel", help="earthlib wheel (default: pip download it)")
    args = ap.parse_args()
    wl, spectra, meta, sensors_py = read_library(fetch_wheel(args.wheel))
    level3 = np.array([m["LEVEL_3"] for m in meta])
    water = np.interp(wl, [k[0] for k in WATER_KNOTS], [k[1] for k in WATER_KNOTS])

    rows = []
    table = {}  # (sensor, kind, name, state) -> (value, means, stds, count)
    for sensor, (elname, names) in SENSORS.items():
        centres, widths = sensor_bands(sensors_py, elname, names)
        R = response(wl, centres, widths)
        mats = {}
        for name, labels, extra, _ in MATERIALS:
            if labels is None:
                m = R @ water
                mats[name] = (m, m * WATER_REL_STD, 0)
                continue
            mask = np.isin(level3, list(labels))
            if extra is not None:
                mask &= extra(spectra, wl)
            banded = spectra[mask] @ R.T
            mats[name] = (banded.mean(axis=0), banded.std(axis=0), int(mask.sum()))
        for name, _, _, _ in MATERIALS:
            table[(sensor, "material", name, "all")] = (0, *mats[name])
        for value, (name, peak, dormant) in enumerate(CLASSES, start=1):
            for state, mix in (("peak", peak), ("dormant", dormant)):
                assert abs(sum(mix.values()) - 1) < 1e-9, name
                mean = sum(f * mats[m][0] for m, f in mix.items())
                std = np.sqrt(sum((f * mats[m][1]) ** 2 for m, f in mix.items()))
                count = sum(mats[m][2] for m in mix)
                table[(sensor, "class", name, state)] = (value, mean, std, count)
        for (s, kind, name, state), (value, mean, std, count) in table.items():
            if s != sensor:
                continue
            for b, (band, _) in enumerate(names):
                rows.append([sensor, kind, value, name, state, band, f"{centres[b]:.3f}", f"{widths[b]:.3f}",
                             f"{mean[b]:.5f}", f"{std[b]:.5f}", count])

    os.makedirs(os.path.dirname(CSV_OUT), exist_ok=True)
    with open(CSV_OUT, "w", newline="") as f:
        f.write(f"# Band reflectances for rstrain synth, made by scripts/class_spectra.py from earthlib {EARTHLIB_VERSION}'s\n"
                "# spectral library (PyPI earthlib, MIT licence, (c) 2023 Christopher Anderson): mean and std over the\n"
                "# library's spectra of each material, resampled to the sensor's bands (centres/FWHM from earthlib/sensors.py,\n"
                "# Gaussian responses). Classes are linear mixtures of materials (see the script). Water is not in earthlib:\n"
                "# it is added by rule (clear water: 0.02-0.06 in the visible, near 0 in the NIR and SWIR).\n")
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["sensor", "kind", "value", "name", "state", "band", "center_um", "fwhm_um", "mean", "std", "spectra"])
        w.writerows(rows)

    # The Swift table: one entry per (sensor, kind, name, state), values in the band order above.
    out = ["// GENERATED by scripts/class_spectra.py from earthlib's spectral library (MIT, (c) 2023",
           "// Christopher Anderson); the same numbers as scripts/data/class_spectra.csv. Do not edit: rerun the script.",
           "// Water is not in earthlib: it is added by rule (clear water, 0.02-0.06 visible, ~0 NIR/SWIR).",
           "",
           "enum ClassSpectraTable {",
           "    /// Band names per sensor, in the order of every `mean` / `std` array below.",
           "    static let bands: [String: [String]] = ["]
    for sensor, (_, names) in SENSORS.items():
        out.append(f'        "{sensor}": [' + ", ".join(f'"{b}"' for b, _ in names) + "],")
    out += ["    ]", "", "    /// Band centres (micrometres), from earthlib/sensors.py.",
            "    static let centres: [String: [Float]] = ["]
    for sensor, (elname, names) in SENSORS.items():
        centres, _ = sensor_bands(sensors_py, elname, names)
        out.append(f'        "{sensor}": [' + ", ".join(f"{c:.3f}" for c in centres) + "],")
    out += ["    ]", "", "    /// Land-cover classes: label value and name.",
            "    static let classes: [(value: UInt8, name: String)] = ["]
    for value, (name, _, _) in enumerate(CLASSES, start=1):
        out.append(f'        ({value}, "{name}"),')
    out += ["    ]", "", "    static let materials: [String] = [" + ", ".join(f'"{m[0]}"' for m in MATERIALS) + "]", "",
            "    /// (sensor, kind, name, state, mean per band, std per band).",
            "    static let entries: [(sensor: String, kind: String, name: String, state: String, mean: [Float], std: [Float])] = ["]
    for (sensor, kind, name, state), (value, mean, std, count) in table.items():
        fm = ", ".join(f"{v:.5f}" for v in mean)
        fs = ", ".join(f"{v:.5f}" for v in std)
        out.append(f'        ("{sensor}", "{kind}", "{name}", "{state}",')
        out.append(f"         [{fm}],")
        out.append(f"         [{fs}]),")
    out += ["    ]", "}", ""]
    with open(SWIFT_OUT, "w") as f:
        f.write("\n".join(out))
    print(f"wrote {os.path.relpath(CSV_OUT, ROOT)} ({len(rows)} rows) and {os.path.relpath(SWIFT_OUT, ROOT)}")
    for sensor in SENSORS:
        print(sensor)
        for (s, kind, name, state), (value, mean, std, count) in table.items():
            if s == sensor:
                print(f"  {kind:8s} {name:12s} {state:7s} n={count:5d} " + " ".join(f"{v:.3f}" for v in mean))


if __name__ == "__main__":
    main()
