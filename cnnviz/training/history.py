"""What a page shows about a run, folded from its events (one job, or a chain of resumed jobs)."""
from __future__ import annotations

from dataclasses import dataclass, field

from cnnviz.jobs.events import Checkpoint, Evaluation, Failed, Finished, Progress


@dataclass
class History:
    progress: list = field(default_factory=list)     # Progress events, in order
    evals: list = field(default_factory=list)        # Evaluation events, in order
    checkpoint: Checkpoint | None = None
    end: Finished | Failed | None = None

    @classmethod
    def from_events(cls, events) -> "History":
        h = cls()
        for e in events:
            if isinstance(e, Progress):
                h.progress.append(e)
            elif isinstance(e, Evaluation):
                h.evals.append(e)
            elif isinstance(e, Checkpoint):
                h.checkpoint = e
            elif isinstance(e, (Finished, Failed)):
                h.end = e  # a resumed job's events come later and replace an earlier end
        if h.end is not None and h.progress and h.progress[-1].step > h.end.step:
            h.end = None
        return h

    @property
    def last(self) -> Progress | None:
        return self.progress[-1] if self.progress else None

    @property
    def failed(self) -> bool:
        return isinstance(self.end, Failed)

    @property
    def val_acc(self) -> float | None:
        return self.evals[-1].val_acc if self.evals else None

    def status(self) -> str:
        if isinstance(self.end, Failed):
            kept = (f" The last good checkpoint (step {self.end.checkpoint_step}) is kept."
                    if self.end.checkpoint_step is not None else "")
            return f"Failed at step {self.end.step}: {self.end.message}.{kept}"
        if isinstance(self.end, Finished):
            return {"done": "Finished", "stopped": "Stopped", "early stopping":
                    "Stopped early: the validation loss stopped improving"}.get(self.end.reason, self.end.reason) + \
                f" after epoch {self.end.epoch} (step {self.end.step}); best validation accuracy " \
                f"{self.end.best_val_acc:.1%}."
        # a sentence, not "Training…": an ellipsis reads as cut text (the crawler's rule too)
        if self.progress:
            return f"Training: step {self.last.step:,}, epoch {self.last.epoch:.1f}."
        return "Starting: the first step is on its way."
