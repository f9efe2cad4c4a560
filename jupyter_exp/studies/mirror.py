"""The driver's storage: its study in memory, every change written through to the file.

Optuna reads a study's trials several times per ask and tell; from the SQLite file
each read rebuilds them through SQLAlchemy (~15 ms a trial at 30 trials, growing with
the study). The driver is its study's one writer, so what it wrote is what the file
holds: reads are served from memory, and every write goes to the file first, then to
memory, so the file is as durable as before (``--resume`` and status readers in other
processes read the file, and see each change as soon as it is made).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .study import optuna


def mirrored(durable: Any, name: str) -> Any:
    """An Optuna storage holding study ``name`` of ``durable`` (an RDBStorage) in
    memory, writing through to it. Only that study can be used through it."""
    storages = optuna().storages

    class StudyMirror(storages.InMemoryStorage):  # type: ignore[name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.durable = durable
            self.durable_study: int = durable.get_study_id_from_name(name)
            self.study_id: int = super().create_new_study(durable.get_study_directions(self.durable_study), name)
            for key, value in durable.get_study_user_attrs(self.durable_study).items():
                super().set_study_user_attr(self.study_id, key, value)
            for key, value in durable.get_study_system_attrs(self.durable_study).items():
                super().set_study_system_attr(self.study_id, key, value)
            self.trial_ids: dict[int, int] = {}  # ours -> the file's
            for frozen in durable.get_all_trials(self.durable_study, deepcopy=False):
                self.trial_ids[super().create_new_trial(self.study_id, template_trial=frozen)] = frozen._trial_id

        def create_new_study(self, directions: Sequence[Any], study_name: str | None = None) -> int:
            raise NotImplementedError("a study mirror holds one study")

        def delete_study(self, study_id: int) -> None:
            raise NotImplementedError("a study mirror holds one study")

        def set_study_user_attr(self, study_id: int, key: str, value: Any) -> None:
            self.durable.set_study_user_attr(self.durable_study, key, value)
            super().set_study_user_attr(study_id, key, value)

        def set_study_system_attr(self, study_id: int, key: str, value: Any) -> None:
            self.durable.set_study_system_attr(self.durable_study, key, value)
            super().set_study_system_attr(study_id, key, value)

        def create_new_trial(self, study_id: int, template_trial: Any = None) -> int:
            theirs = self.durable.create_new_trial(self.durable_study, template_trial)
            ours = super().create_new_trial(study_id, template_trial)
            self.trial_ids[ours] = theirs
            return ours

        def set_trial_param(
            self, trial_id: int, param_name: str, param_value_internal: float, distribution: Any
        ) -> None:
            self.durable.set_trial_param(self.trial_ids[trial_id], param_name, param_value_internal, distribution)
            super().set_trial_param(trial_id, param_name, param_value_internal, distribution)

        def set_trial_state_values(self, trial_id: int, state: Any, values: Sequence[float] | None = None) -> bool:
            self.durable.set_trial_state_values(self.trial_ids[trial_id], state, values)
            return bool(super().set_trial_state_values(trial_id, state, values))

        def set_trial_intermediate_value(self, trial_id: int, step: int, intermediate_value: float) -> None:
            self.durable.set_trial_intermediate_value(self.trial_ids[trial_id], step, intermediate_value)
            super().set_trial_intermediate_value(trial_id, step, intermediate_value)

        def set_trial_user_attr(self, trial_id: int, key: str, value: Any) -> None:
            self.durable.set_trial_user_attr(self.trial_ids[trial_id], key, value)
            super().set_trial_user_attr(trial_id, key, value)

        def set_trial_system_attr(self, trial_id: int, key: str, value: Any) -> None:
            self.durable.set_trial_system_attr(self.trial_ids[trial_id], key, value)
            super().set_trial_system_attr(trial_id, key, value)

    return StudyMirror()
