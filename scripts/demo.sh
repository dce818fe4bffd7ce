#!/usr/bin/env bash
# The main job, from a fresh machine: install what is missing, build rstrain in release mode,
# check the environment (BLAS kernels, MPI across 2 ranks, GDAL, HDF5), measure the engine, then
# train: a U-Net, a ResNet and a random forest in round-robin over two synthetic Sentinel-2 shards
# on 2 MPI ranks (configs/demo.json); then score the three on the held-out windows side by side,
# map a whole repository with the U-Net and the forest (2 ranks sharing its tiles), judge a map
# against its tile's label through the class table, and draw the training curves.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none

swift build -c release
bin=.build/release/rstrain

echo "== rstrain doctor, 2 MPI ranks"
mpirun -n 2 --oversubscribe "$bin" doctor

echo "== sgemm 2048³ (the ceiling for conv layers)"
"$bin" bench sgemm --threads 1
"$bin" bench sgemm

echo "== conv kernels, forward and backward, 1 thread"
"$bin" bench conv --threads 1

echo "== synthetic Sentinel-2 shards (10 m and 20 m band files, labels, NODATA) in out/demo"
"$bin" synth --preset sentinel2 --out out/demo --shards 2 --tiles-per-shard 2 --size 512 --seed 1 --overwrite
gdalinfo out/demo/shard_000/tile_00/B02.tif | grep -E "Size is|PROJCRS|Block=|NoData"

echo "== the model zoo: a U-Net for Sentinel-2 tiles"
"$bin" models show configs/models/unet2d_sentinel2.json

echo "== training throughput (forward, backward, Adam), 1 thread; compare: WORKLOADS.md, PyTorch 81 /s"
"$bin" bench workload unet2d_64 --threads 1 --seconds 3

echo "== the run config checked against its data: shards, tiles, bands, CRS, windows, classes, NODATA"
"$bin" inspect configs/demo.json

echo "== training: a U-Net, a ResNet pixel-context classifier and a random forest, round-robin over 2 shards on 2 ranks (exact mode)"
mpirun -n 2 --oversubscribe "$bin" configs/demo.json --restart

echo "== the three models side by side on every shard's held-out windows (2 ranks, each scoring its shard)"
mpirun -n 2 --oversubscribe "$bin" eval --config configs/demo.json --out out/demo-eval

echo "== maps of a whole repository (shard_001, its tiles shared by the 2 ranks): U-Net, then the forest (COGs)"
mpirun -n 2 --oversubscribe "$bin" predict --checkpoint out/demo-run/final/unet-small.h5 --input out/demo/shard_001 \
  --output out/demo-maps/unet --cog
mpirun -n 2 --oversubscribe "$bin" predict --checkpoint out/demo-run/final/random-forest.h5 --input out/demo/shard_001 \
  --output out/demo-maps/forest --cog
gdalinfo out/demo-maps/unet/tile_01.tif | grep -E "Size is|LAYOUT|Overviews|Categories|^ +[0-9]+: [a-z_]+|NoData"

echo "== a map against its tile's label (values 1..8 mapped to class indices by shard_001's class table);"
echo "   the tile mixes training and held-out windows, so these figures flatter both models"
"$bin" eval --prediction out/demo-maps/unet/tile_01.tif --reference out/demo/shard_001/tile_01/label.tif \
  --class-table out/demo/shard_001 --out out/demo-maps/eval-unet
"$bin" eval --prediction out/demo-maps/forest/tile_01.tif --reference out/demo/shard_001/tile_01/label.tif \
  --class-table out/demo/shard_001 --out out/demo-maps/eval-forest

echo "== training curves (loss per step, validation accuracy per round)"
"$bin" eval --run out/demo-run --out out/demo-eval/curves

echo "== outputs"
echo "   run (checkpoints, final weights, metrics.jsonl): out/demo-run"
echo "   held-out reports per model (metrics.json/csv, confusion.csv/svg, shards.csv, report.html): out/demo-eval/<model>"
echo "   class maps (COG, colour table, class names): out/demo-maps/unet, out/demo-maps/forest"
echo "   map-vs-label reports: out/demo-maps/eval-unet, out/demo-maps/eval-forest"
echo "   training curves: out/demo-eval/curves/curves.svg, out/demo-eval/curves/report.html"
