"""Registry of ``vidops`` sub-commands: one module per command, in ``--help`` order.

Each module defines ``register(subparsers)``, which adds its parser and sets
``handler=run`` where ``run(args, ctx) -> int`` returns the exit code.
"""

COMMANDS: list[str] = [
    "run_cmd",
    "resume_cmd",
    "status_cmd",
    "attach_cmd",
    "control_cmd",
    "pipeline_cmd",
    "extract_cmd",
    "validate_cmd",
    "dataset_cmd",
    "train_cmd",
    "evaluate_cmd",
    "report_cmd",
    "predict_cmd",
]
