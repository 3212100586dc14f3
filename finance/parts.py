"""The pooled fund's parts of the plan, as forms. Their arithmetic is in `finance.rules`."""

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError

from finance.constants import FundingStream
from finance.rules import contribution_amounts, contributions_table
from itf_portal.money import MoneyError, money_format, money_parse
from plans.constants import PartStatus
from plans.parts import PartForm, long_text


class MoneyField(forms.CharField):
    """An amount in pounds; its messages name the cell, e.g. "NHS Walsall CCG, Carers' breaks,
    2015/16: Enter an amount of 0 or more"."""

    def __init__(self, *, label: str, **kwargs):
        super().__init__(
            label=label,
            required=False,
            max_length=40,
            error_messages={"max_length": f"{label}: Enter an amount in pounds, like 1,234.50."},
            **kwargs,
        )

    def clean(self, value):
        text = super().clean(value)
        try:
            return money_parse(text)
        except MoneyError as error:
            raise ValidationError(f"{self.label}: {error}.") from error


def _as_typed(amount: str | None) -> str:
    return f"{Decimal(amount):,.2f}" if amount else ""


class ContributionsForm(PartForm):
    """An amount for each partner, funding stream and year of the round."""

    note = long_text(
        "Notes on these figures",
        "Where the figures come from, and anything a reader should know about them.",
        rows=4,
    )

    def __init__(self, data=None, *, plan, content=None, **kwargs):
        super().__init__(data, plan=plan, content=content, **kwargs)
        self.partners = [p.organisation for p in plan.area.partnerships.all()]
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
        partners = [p.organisation for p in plan.area.partnerships.all()]
        return {
            "fields": [("Notes on these figures", (content or {}).get("note", ""))],
            "table": None,
            "contributions": contributions_table(content, partners, plan.round.year_labels),
        }
