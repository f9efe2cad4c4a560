"""The pipeline engine: dvc.yaml, the stage graph, dvc.lock, hashing, cache, repro."""
