/// The trainer: the run config, the logical schedule (rounds, samplers), gradient reduction
/// (fast and exact), checkpoints and the MPI orchestration of `rstrain CONFIG.json`.
public enum Training {}
