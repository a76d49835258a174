"""What a verification round produced: every sample, why each was rejected, and tables.

The report holds all samples, accepted and rejected (never dropped), with an `Audit` per
sample (which check decided, the detail, any notes), counts reasons per task type and per
proposer, and what share of the candidates each check removed.
"""

from __future__ import annotations

from collections import Counter

from pydantic import BaseModel, Field
from rich.table import Table

from agents.records import Sample

UNGROUPED = "-"


class Audit(BaseModel):
    """How one sample was decided."""

    sample_id: str
    check: str | None = Field(
        default=None, description="The check that rejected it (None: accepted)."
    )
    reason: str | None = Field(default=None, description="The RejectReason value, if rejected.")
    detail: str = Field(default="", description="What exactly was wrong, for a person to read.")
    notes: list[str] = Field(
        default_factory=list, description="Checks that passed it with a remark."
    )


class VerificationReport(BaseModel):
    """Samples (in input order) with their audits, the checks run, and run-level notes."""

    samples: list[Sample]
    audits: list[Audit]
    checks: list[str] = Field(description="Checks in the order they ran (skipped ones included).")
    notes: list[str] = Field(default_factory=list, description="e.g. 'blind check skipped: ...'.")

    @property
    def accepted(self) -> list[Sample]:
        return [s for s in self.samples if s.verdict == "accepted"]

    @property
    def rejected(self) -> list[Sample]:
        return [s for s in self.samples if s.verdict == "rejected"]

    def reasons_by(self, field: str) -> dict[str, Counter[str]]:
        """Group ('question_type' or 'proposer_id') -> Counter of reasons ('accepted' too)."""
        groups: dict[str, Counter[str]] = {}
        for sample in self.samples:
            key = str(getattr(sample.proposal, field, UNGROUPED))
            outcome = "accepted" if sample.verdict == "accepted" else sample.reason or "unknown"
            groups.setdefault(key, Counter())[outcome] += 1
        return groups

    def removed_by_check(self) -> dict[str, int]:
        """Check -> samples it rejected, in pipeline order (intake first)."""
        counts = Counter(a.check for a in self.audits if a.check is not None)
        order = ["intake", *self.checks]
        return {name: counts.get(name, 0) for name in order} | {
            name: n for name, n in counts.items() if name not in order
        }

    def reason_table(self, by: str = "question_type") -> Table:
        """Rows: task types (or proposers); columns: accepted and every reason seen."""
        groups = self.reasons_by(by)
        reasons = sorted({r for c in groups.values() for r in c if r != "accepted"})
        table = Table(title=f"verification by {by}")
        table.add_column(by, no_wrap=True)
        for column in ("total", "accepted", *reasons):
            table.add_column(column, justify="right")
        for name in sorted(groups):
            counts = groups[name]
            cells = [str(counts[r]) if counts[r] else "" for r in reasons]
            table.add_row(name, str(sum(counts.values())), str(counts["accepted"]), *cells)
        total: Counter[str] = sum(groups.values(), Counter())
        cells = [str(total[r]) for r in reasons]
        table.add_row(
            "total", str(sum(total.values())), str(total["accepted"]), *cells, style="bold"
        )
        return table

    def check_table(self) -> Table:
        """Per check: how many candidates it removed and what share of all candidates."""
        table = Table(title="removed per check")
        for column in ("check", "removed", "share of candidates", "reasons"):
            table.add_column(column, justify="left" if column in ("check", "reasons") else "right")
        for row in self.check_rows():
            table.add_row(*row)
        return table

    def check_rows(self) -> list[tuple[str, str, str, str]]:
        """(check, removed, share, reasons) rows; 'accepted' last (also in markdown)."""
        total = max(len(self.samples), 1)
        by_check: dict[str, Counter[str]] = {}
        for audit in self.audits:
            if audit.check is not None:
                by_check.setdefault(audit.check, Counter())[audit.reason or "unknown"] += 1
        rows = []
        for name, removed in self.removed_by_check().items():
            reasons = ", ".join(f"{r} {n}" for r, n in by_check.get(name, Counter()).most_common())
            skipped = any(note.startswith(f"{name}:") for note in self.notes)
            rows.append(
                (
                    name + (" (skipped)" if skipped else ""),
                    str(removed),
                    f"{removed / total:.1%}",
                    reasons,
                )
            )
        accepted = len(self.accepted)
        rows.append(("accepted", str(accepted), f"{accepted / total:.1%}", ""))
        return rows

    def markdown(self) -> str:
        """The check table and the per-task reason table as Markdown (for docs)."""
        lines = [
            "| check | removed | share of candidates | reasons |",
            "| --- | ---: | ---: | --- |",
        ]
        lines += [f"| {c} | {r} | {s} | {why} |" for c, r, s, why in self.check_rows()]
        groups = self.reasons_by("question_type")
        reasons = sorted({r for c in groups.values() for r in c if r != "accepted"})
        lines += ["", "| question_type | total | accepted | " + " | ".join(reasons) + " |"]
        lines.append("| --- |" + " ---: |" * (len(reasons) + 2))
        for name in sorted(groups):
            counts = groups[name]
            cells = [str(counts[r]) if counts[r] else "" for r in reasons]
            lines.append(
                f"| {name} | {sum(counts.values())} | {counts['accepted']} | "
                + " | ".join(cells)
                + " |"
            )
        return "\n".join(lines)
