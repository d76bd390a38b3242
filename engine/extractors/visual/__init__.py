"""Visual feature modules: one concept per module, all fed by the single decoding pass."""
