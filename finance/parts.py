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
from itf_portal.money import money_format
from plans.constants import FundingStream, PartStatus, RiskShareBasis, SchemeType
from plans.parts import MoneyField, part_form, period_field, row_form, shown
from plans.parts import percent as _percent
from plans.template import (
    Arrangements,
    Contingency,
    Contributions,
    HealthSpend,
    Scheme,
    Schemes,
)
from plans.template import ContingencyRow as ContingencyRowContent


def _as_typed(amount: str | None) -> str:
    return f"{Decimal(amount):,.2f}" if amount else ""


class ContributionsForm(part_form(Contributions)):
    """An amount for each partner, funding stream and year of the round."""

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
                    name = f"amount_{partner.pk}_{stream.value}_{index}"
                    self.fields[name] = MoneyField(label=f"{partner.name}, {stream.label}, {year}")
                    self.initial[name] = _as_typed(stored.get((partner.pk, stream.value, year)))
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
                            self[f"amount_{partner.pk}_{stream.value}_{index}"]
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
            "fields": [("Notes on these figures", (content or {}).get("note", ""))],
            "table": None,
            "contributions": contributions_table(content, partners, plan.round.year_labels),
        }


def _partner_choices(plan) -> list[tuple[str, str]]:
    return [("", "Choose a partner")] + [(str(o.pk), o.name) for o in plan.partner_organisations]


class SchemeRow(row_form(Scheme)):
    """One scheme of the template's "ITF investment" table; an income line reduces net spend."""

    def __init__(self, *args, plan=None, index=0, **kwargs):
        super().__init__(*args, plan=plan, index=index, **kwargs)
        self.years = plan.round.year_labels if plan else []
        self.fields["lead_commissioner"].choices = _partner_choices(plan) if plan else []
        for number, year in enumerate(self.years):
            for name in ("spend", "benefits"):
                self.fields[f"{name}_{number}"] = period_field(Scheme, name, year)

    @classmethod
    def initial_from(cls, row: dict, plan) -> dict:
        initial = {k: v for k, v in row.items() if not isinstance(v, dict)}
        initial["lead_commissioner"] = str(row.get("lead_commissioner") or "")
        for number, year in enumerate(plan.round.year_labels):
            initial[f"spend_{number}"] = _as_typed((row.get("spend") or {}).get(year))
            initial[f"benefits_{number}"] = _as_typed((row.get("benefits") or {}).get(year))
        return initial

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

    def content(self) -> dict:
        data = self.cleaned_data
        lead = data.get("lead_commissioner")
        names = dict(self.fields["lead_commissioner"].choices)
        return {
            "name": data.get("name", ""),
            "scheme_type": data.get("scheme_type", ""),
            "scheme_type_other": data.get("scheme_type_other", ""),
            "lead_commissioner": int(lead) if lead else "",
            "lead_commissioner_name": names.get(lead, "") if lead else "",
            "provider": data.get("provider", ""),
            "stream": data.get("stream", ""),
            "outcomes": data.get("outcomes", ""),
            "income": bool(data.get("income")),
            "spend": {y: _money_json(data.get(f"spend_{i}")) for i, y in enumerate(self.years)},
            "benefits": {
                y: _money_json(data.get(f"benefits_{i}")) for i, y in enumerate(self.years)
            },
        }

    @classmethod
    def columns(cls, plan) -> list[tuple[str, object]]:
        def amount(key, year):
            def value(row):
                text = (row.get(key) or {}).get(year)
                if not text:
                    return ""
                return money_format(Decimal(text), brackets=row.get("income") and key == "spend")

            return value

        columns = [
            ("Scheme", lambda row: row.get("name", "")),
            (
                "Type",
                lambda row: (
                    row.get("scheme_type_other")
                    if row.get("scheme_type") == SchemeType.OTHER
                    else shown(cls.base_fields["scheme_type"], row.get("scheme_type"))
                ),
            ),
            ("Lead commissioner", lambda row: row.get("lead_commissioner_name", "")),
            ("Provider", lambda row: row.get("provider", "")),
            ("Funding stream", lambda row: shown(cls.base_fields["stream"], row.get("stream"))),
            ("Outcomes it supports", lambda row: row.get("outcomes", "")),
        ]
        for year in plan.round.year_labels:
            columns += [
                (f"{year} spend", amount("spend", year)),
                (f"{year} benefits", amount("benefits", year)),
            ]
        return columns


def _schemes_total_row(plan, rows: list[dict]) -> list[str]:
    """The table's last row: net spend (income taken off) and benefits, per year."""
    years = plan.round.year_labels
    spend = scheme_net_spend({"rows": rows}, years)
    cells = ["Net total", "", "", "", "", ""]
    for year in years:
        benefits = sum(
            (Decimal((row.get("benefits") or {}).get(year) or "0") for row in rows), Decimal(0)
        )
        cells += [money_format(spend[year]), money_format(benefits)]
    return cells


SchemeRow.total_row = classmethod(lambda cls, plan, rows: _schemes_total_row(plan, rows))


def _money_json(amount) -> str:
    return str(amount) if amount is not None else ""


class SchemesForm(part_form(Schemes)):
    row_form = SchemeRow
    row_label = "Scheme"

    def clean(self):
        data = super().clean()
        complete = data.get("status") == PartStatus.COMPLETE
        if complete and self.rows is not None and not any(form.kept for form in self.rows.forms):
            self.add_error(None, "Add at least one scheme before marking this part complete.")
        return data


class ArrangementsForm(part_form(Arrangements)):
    """Who hosts the pooled fund and how over- and under-spends are shared."""

    def __init__(self, data=None, *, plan, content=None, **kwargs):
        content = {
            "materiality_threshold": DEFAULT_MATERIALITY_THRESHOLD,
            "notice_days": DEFAULT_NOTICE_DAYS,
            "risk_share_basis": RiskShareBasis.PROPORTIONAL,
            **(content or {}),
        }
        super().__init__(data, plan=plan, content=content, **kwargs)
        self.initial["materiality_threshold"] = _as_typed(content["materiality_threshold"])
        self.partners = plan.partner_organisations
        self.fields["host_partner"].choices = _partner_choices(plan)
        self.initial["host_partner"] = str(content.get("host_partner") or "")
        shares = content.get("shares") or {}
        self.share_names = []
        for partner in self.partners:
            name = f"share_{partner.pk}"
            self.fields[name] = _percent(f"{partner.name}: share of over- and under-spends (%)")
            self.initial[name] = shares.get(str(partner.pk), "")
            self.share_names.append(name)

    def clean(self):
        data = super().clean()
        if data.get("risk_share_basis") == RiskShareBasis.AGREED and (
            problem := shares_problem([data.get(name) for name in self.share_names])
        ):
            self.add_error(None, problem)
        return data

    def content(self) -> dict:
        content = super().content()
        host = content.get("host_partner")
        names = {str(p.pk): p.name for p in self.partners}
        content["host_partner"] = int(host) if host else ""
        content["host_partner_name"] = names.get(host, "") if host else ""
        content["share_names"] = names
        content["materiality_threshold"] = _money_json(
            self.cleaned_data.get("materiality_threshold")
        )
        content["shares"] = {
            name.removeprefix("share_"): _money_json(self.cleaned_data.get(name))
            for name in self.share_names
            if self.cleaned_data.get(name) is not None
        }
        return content


def _arrangements_labelled(content: dict) -> dict[str, str]:
    content = content or {}
    names = content.get("share_names") or {}
    basis = content.get("risk_share_basis") or RiskShareBasis.PROPORTIONAL
    shown_values = {
        "Host partner": content.get("host_partner_name", ""),
        "Pooled fund manager": content.get("fund_manager", ""),
        "How over- and under-spends are shared": RiskShareBasis(basis).label,
    }
    if basis == RiskShareBasis.AGREED:
        for pk, share in (content.get("shares") or {}).items():
            shown_values[f"Agreed share: {names.get(pk, pk)}"] = f"{Decimal(share):g}%"
    threshold = content.get("materiality_threshold")
    shown_values["Materiality threshold (a year)"] = (
        money_format(Decimal(threshold)) if threshold else ""
    )
    days = content.get("notice_days")
    shown_values["Notice of an over- or under-spend"] = f"{days} working days" if days else ""
    return shown_values


ArrangementsForm.labelled_only = True
ArrangementsForm.labelled = classmethod(lambda cls, content: _arrangements_labelled(content))
ArrangementsForm.display = classmethod(
    lambda cls, plan, content: {
        "fields": list(_arrangements_labelled(content).items()),
        "table": None,
    }
)


class ContingencyRow(row_form(ContingencyRowContent)):
    """For one outcome: what is saved if its targets are met, and the most other services may
    need if they are not."""

    def __init__(self, *args, plan=None, index=0, **kwargs):
        super().__init__(*args, plan=plan, index=index, **kwargs)
        year = plan.round.year_labels[-1] if plan else ""
        self.periods = [year, "ongoing"]
        for key in ("savings", "support"):
            for number, period in enumerate(self.periods):
                self.fields[f"{key}_{number}"] = period_field(ContingencyRowContent, key, period)

    @classmethod
    def initial_from(cls, row: dict, plan) -> dict:
        periods = [plan.round.year_labels[-1], "ongoing"]
        initial = {"outcome": row.get("outcome", "")}
        for key in ("savings", "support"):
            for number, period in enumerate(periods):
                initial[f"{key}_{number}"] = _as_typed((row.get(key) or {}).get(period))
        return initial

    def clean(self):
        data = super().clean()
        if self.kept and not data.get("outcome"):
            self.add_error("outcome", "Name the outcome.")
        return data

    def content(self) -> dict:
        data = self.cleaned_data
        return {
            "outcome": data.get("outcome", ""),
            **{
                key: {p: _money_json(data.get(f"{key}_{i}")) for i, p in enumerate(self.periods)}
                for key in ("savings", "support")
            },
        }

    @classmethod
    def columns(cls, plan) -> list[tuple[str, object]]:
        year = plan.round.year_labels[-1]

        def amount(key, period):
            def value(row):
                text = (row.get(key) or {}).get(period)
                return money_format(Decimal(text)) if text else ""

            return value

        return [
            ("Outcome", lambda row: row.get("outcome", "")),
            (f"Planned savings {year}", amount("savings", year)),
            ("Planned savings ongoing", amount("savings", "ongoing")),
            (f"Maximum support needed {year}", amount("support", year)),
            ("Maximum support needed ongoing", amount("support", "ongoing")),
        ]


class ContingencyForm(part_form(Contingency)):
    row_form = ContingencyRow
    row_label = "Outcome"


class HealthSpendForm(part_form(HealthSpend)):
    """Total health and care spend for each commissioner, spend and benefits per year from the
    baseline year, with sub-totals per organisation (in `finance.rules.spend_table`)."""

    def __init__(self, data=None, *, plan, content=None, **kwargs):
        super().__init__(data, plan=plan, content=content, **kwargs)
        self.years = [plan.round.baseline_label, *plan.round.year_labels]
        self.lines = spend_lines(plan)
        stored = (content or {}).get("lines", {})
        self.cells: dict[str, tuple] = {}
        for line in self.lines:
            for key in ("spend", "benefits"):
                for number, year in enumerate(self.years):
                    name = f"{line['key']}_{key}_{number}"
                    self.fields[name] = MoneyField(label=f"{line['label']}, {year} {key}")
                    amount = ((stored.get(line["key"]) or {}).get(key) or {}).get(year)
                    self.initial[name] = _as_typed(amount)
                    self.cells[name] = (line["key"], key, year)

    def grid(self) -> list[dict]:
        return [
            {
                "label": line["label"],
                "cells": [
                    self[f"{line['key']}_{key}_{number}"]
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
            "fields": [("Notes on these figures", (content or {}).get("note", ""))],
            "table": None,
            "spend": spend_table(
                content,
                spend_lines(plan, content),
                [plan.round.baseline_label, *plan.round.year_labels],
            ),
        }
