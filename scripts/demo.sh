#!/usr/bin/env bash
# The main job, from a fresh machine: install what is missing, build rstrain in release mode,
# check the environment (BLAS kernels, MPI across 2 ranks, GDAL, HDF5), measure the engine, then
# train: two models in round-robin over two synthetic Sentinel-2 shards on 2 MPI ranks
# (configs/demo.json), with the final validation accuracy and where the outputs are at the end.
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

echo "== training: a U-Net and a ResNet pixel-context classifier, round-robin over 2 shards on 2 ranks (exact mode)"
mpirun -n 2 --oversubscribe "$bin" configs/demo.json --restart
