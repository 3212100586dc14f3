"""The pooled fund's parts of the plan, as forms. Their arithmetic is in `finance.rules`."""

from decimal import Decimal

from finance.constants import DEFAULT_MATERIALITY_THRESHOLD, DEFAULT_NOTICE_DAYS
from finance.rules import (
    contribution_amounts,
    contributions_table,
    scheme_net_spend,
    shares_problem,
    spend_lines,
    spend_table,
)
from itf_portal.forms import MoneyField
from itf_portal.money import money_format
from plans.constants import FundingStream, PartStatus, RiskShareBasis, SchemeType
from plans.parts import money_typed, part_form, row_form
from plans.parts import percent as _percent
from plans.template import (
    Arrangements,
    Contingency,
    Contributions,
    HealthSpend,
    Scheme,
    Schemes,
    questions,
)
from plans.template import ContingencyRow as ContingencyRowContent


def _answers(model, content: dict) -> list[tuple[str, str]]:
    """The part's own answers beside its grid (its notes), labelled as its description asks."""
    return [(q.label, (content or {}).get(q.name, "")) for q in questions(model)]


class ContributionsForm(part_form(Contributions)):
    """An amount for each partner, funding stream and year of the round."""

    @staticmethod
    def cell_name(partner_id: int, stream: str, number: int) -> str:
        """The input of one partner's amount from one stream in the round's `number`th year:
        the page's and the workbook importer's."""
        return f"amount_{partner_id}_{stream}_{number}"

    def __init__(self, data=None, *, plan, content=None, **kwargs):
        super().__init__(data, plan=plan, content=content, **kwargs)
        self.partners = plan.partner_organisations
        self.years = plan.round.year_labels
        stored = {
            (entry["organisation"], entry["stream"], entry["year"]): entry["amount"]
            for entry in contribution_amounts(content or {})
        }
        self.cells: dict[str, tuple] = {}
        for partner in self.partners:
            for stream in FundingStream:
                for index, year in enumerate(self.years):
                    name = self.cell_name(partner.pk, stream.value, index)
                    self.fields[name] = MoneyField(label=f"{partner.name}, {stream.label}, {year}")
                    self.initial[name] = money_typed(stored.get((partner.pk, stream.value, year)))
                    self.cells[name] = (partner, stream, year)

    def grid(self) -> list[dict]:
        """The inputs laid out for the template: per partner, a row per stream, a cell per year."""
        return [
            {
                "partner": partner,
                "rows": [
                    {
                        "stream": stream.label,
                        "cells": [
                            self[self.cell_name(partner.pk, stream.value, index)]
                            for index in range(len(self.years))
                        ],
                    }
                    for stream in FundingStream
                ],
            }
            for partner in self.partners
        ]

    def clean(self):
        data = super().clean()
        if data.get("status") == PartStatus.COMPLETE and not any(
            data.get(name) for name in self.cells
        ):
            self.add_error(
                None, "Enter at least one contribution before marking this part complete."
            )
        return data

    def content(self) -> dict:
        content = super().content()
        content["amounts"] = [
            {
                "organisation": partner.pk,
                "organisation_name": partner.name,
                "stream": stream.value,
                "year": year,
                "amount": str(self.cleaned_data[name]),
            }
            for name, (partner, stream, year) in self.cells.items()
            if self.cleaned_data.get(name) is not None
        ]
        return content

    @classmethod
    def labelled(cls, content: dict) -> dict[str, str]:
        """Each stored amount under a readable name, for the history's differences."""
        return {
            f"{entry.get('organisation_name', entry['organisation'])}, "
            f"{FundingStream(entry['stream']).label}, {entry['year']}": money_format(
                Decimal(entry["amount"])
            )
            for entry in contribution_amounts(content)
        }

    @classmethod
    def display(cls, plan, content: dict) -> dict:
        partners = plan.partner_organisations
        return {
            "fields": _answers(cls.content_model, content),
            "table": None,
            "contributions": contributions_table(content, partners, plan.round.year_labels),
        }


class SchemeRow(row_form(Scheme)):
    """One scheme of the template's "ITF investment" table; an income line reduces net spend."""

    def clean(self):
        data = super().clean()
        if self.kept:
            if not data.get("name"):
                self.add_error("name", "Name the scheme.")
            if not data.get("scheme_type") and "scheme_type" not in self.errors:
                self.add_error("scheme_type", "Choose the scheme type.")
            if data.get("scheme_type") == SchemeType.OTHER and not data.get("scheme_type_other"):
                self.add_error("scheme_type_other", "Describe the scheme type.")
        return data

    @classmethod
    def total_row(cls, plan, rows: list[dict]) -> list[str]:
        """The table's last row: net spend (income taken off) and benefits, per year."""
        years = plan.round.year_labels
        spend = scheme_net_spend({"rows": rows}, years)
        # Under the table's columns: blank under the plain ones, then each year's two amounts.
        shown = ["Net total"] + [""] * (len(cls.columns(plan)) - 1 - 2 * len(years))
        for year in years:
            benefits = sum(
                (Decimal((row.get("benefits") or {}).get(year) or "0") for row in rows), Decimal(0)
            )
            shown += [money_format(spend[year]), money_format(benefits)]
        return shown


class SchemesForm(part_form(Schemes)):
    row_form = SchemeRow
    row_label = "Scheme"

    def clean(self):
        data = super().clean()
        rows = [row for row in self.rows.forms if row.kept] if self.rows else self.stored_rows
        if data.get("status") == PartStatus.COMPLETE and not rows:
            self.add_error(None, "Add at least one scheme before marking this part complete.")
        return data


class ArrangementsForm(part_form(Arrangements)):
    """Who hosts the pooled fund and how over- and under-spends are shared."""

    @staticmethod
    def share_name(partner_id: int) -> str:
        """The input of a partner's agreed share: the page's, the calculator's and the workbook
        importer's."""
        return f"share_{partner_id}"

    def __init__(self, data=None, *, plan, content=None, **kwargs):
        content = {
            "materiality_threshold": DEFAULT_MATERIALITY_THRESHOLD,
            "notice_days": DEFAULT_NOTICE_DAYS,
            "risk_share_basis": RiskShareBasis.PROPORTIONAL,
            **(content or {}),
        }
        super().__init__(data, plan=plan, content=content, **kwargs)
        self.partners = plan.partner_organisations
        shares = content.get("shares") or {}
        self.share_names = []
        for partner in self.partners:
            name = self.share_name(partner.pk)
            self.fields[name] = _percent(
                f"{partner.name}: share of over- and under-spends, as a percentage"
            )
            self.initial[name] = shares.get(str(partner.pk), "")
            self.share_names.append(name)

    def clean(self):
        data = super().clean()
        if data.get("risk_share_basis") == RiskShareBasis.AGREED and (
            problem := shares_problem([data.get(name) for name in self.share_names])
        ):
            self.add_error(None, problem)
        return data

    @classmethod
    def labelled(cls, content: dict) -> dict[str, str]:
        """The agreed shares, by partner, where they are what is shared by (its other fields
        are asked)."""
        content = content or {}
        if content.get("risk_share_basis") != RiskShareBasis.AGREED:
            return {}
        names = content.get("share_names") or {}
        return {
            f"Agreed share: {names.get(pk, pk)}": f"{Decimal(share):g}%"
            for pk, share in (content.get("shares") or {}).items()
        }

    def content(self) -> dict:
        content = super().content()
        content["share_names"] = {str(p.pk): p.name for p in self.partners}
        content["shares"] = {
            name.removeprefix("share_"): str(self.cleaned_data[name])
            for name in self.share_names
            if self.cleaned_data.get(name) is not None
        }
        return content


class ContingencyRow(row_form(ContingencyRowContent)):
    """For one outcome: what is saved if its targets are met, and the most other services may
    need if they are not."""

    def clean(self):
        data = super().clean()
        if self.kept and not data.get("outcome"):
            self.add_error("outcome", "Name the outcome.")
        return data


class ContingencyForm(part_form(Contingency)):
    row_form = ContingencyRow
    row_label = "Outcome"


class HealthSpendForm(part_form(HealthSpend)):
    """Total health and care spend for each commissioner, spend and benefits per year from the
    baseline year, with sub-totals per organisation (in `finance.rules.spend_table`)."""

    @staticmethod
    def cell_name(line: str, what: str, number: int) -> str:
        """The input of a commissioner line's spend or benefits (`what`) in the `number`th year
        from the baseline: the page's and the workbook importer's."""
        return f"{line}_{what}_{number}"

    def __init__(self, data=None, *, plan, content=None, **kwargs):
        super().__init__(data, plan=plan, content=content, **kwargs)
        self.years = [plan.round.baseline_label, *plan.round.year_labels]
        self.lines = spend_lines(plan)
        stored = (content or {}).get("lines", {})
        self.cells: dict[str, tuple] = {}
        for line in self.lines:
            for key in ("spend", "benefits"):
                for number, year in enumerate(self.years):
                    name = self.cell_name(line["key"], key, number)
                    self.fields[name] = MoneyField(label=f"{line['label']}, {year} {key}")
                    amount = ((stored.get(line["key"]) or {}).get(key) or {}).get(year)
                    self.initial[name] = money_typed(amount)
                    self.cells[name] = (line["key"], key, year)

    def grid(self) -> list[dict]:
        return [
            {
                "label": line["label"],
                "cells": [
                    self[self.cell_name(line["key"], key, number)]
                    for number in range(len(self.years))
                    for key in ("spend", "benefits")
                ],
            }
            for line in self.lines
        ]

    def content(self) -> dict:
        content = super().content()
        lines: dict = {}
        for name, (line, key, year) in self.cells.items():
            amount = self.cleaned_data.get(name)
            if amount is not None:
                lines.setdefault(line, {}).setdefault(key, {})[year] = str(amount)
        content["lines"] = lines
        content["line_labels"] = {line["key"]: line["label"] for line in self.lines}
        return content

    @classmethod
    def labelled(cls, content: dict) -> dict[str, str]:
        labels = (content or {}).get("line_labels", {})
        return {
            f"{labels.get(line, line)}, {year} {key}": money_format(Decimal(amount))
            for line, values in (content or {}).get("lines", {}).items()
            for key, years in values.items()
            for year, amount in years.items()
        }

    @classmethod
    def display(cls, plan, content: dict) -> dict:
        return {
            "fields": _answers(cls.content_model, content),
            "table": None,
            "spend": spend_table(
                content,
                spend_lines(plan, content),
                [plan.round.baseline_label, *plan.round.year_labels],
            ),
        }
