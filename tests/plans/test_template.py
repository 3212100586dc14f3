"""The template, described once: every part is in the description, every write passes it, and
the pages, the workbook and the PDF show every part unless the description says why not."""

from io import BytesIO

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from openpyxl import load_workbook

from finance.services import part_save
from plans.constants import PartKey
from plans.exports.service import plan_export_xlsx, plan_print_html
from plans.models import Part
from plans.parts import described_fields
from plans.registry import PART_BY_KEY as PAGES
from plans.services import plan_current_round, plan_open
from plans.template import PARTS, PDF, WEB, WORKBOOK, cells, questions

SEED = open("/work/shared/seeds/003_c60d4e63bd1ea6be.txt").read()  # noqa: SIM115


@pytest.fixture
def plan(world):
    return plan_open(area=world.area, round=plan_current_round())


def test_every_part_key_is_described_once_in_template_order():
    assert [spec.key for spec in PARTS] == list(PartKey.values)


@pytest.mark.parametrize("spec", [s for s in PARTS if s.in_template], ids=lambda s: s.key)
def test_each_template_part_is_worded_as_the_template_prints_it(spec):
    assert spec.title in SEED or not spec.titled
    assert " ".join(spec.words.split()) in " ".join(SEED.split())
    for point in spec.points:
        assert point in SEED or spec.key == PartKey.METRICS
    for question in spec.questions:
        if question.ask.words:
            assert " ".join(question.ask.words.split()) in " ".join(SEED.split())


@pytest.mark.parametrize("spec", PARTS, ids=lambda s: s.key)
def test_each_parts_form_has_exactly_the_described_fields(spec):
    form = PAGES[spec.key].form
    asked = set(described_fields(spec.content))
    assert asked <= set(form.base_fields)
    assert set(form.content_fields()) == asked
    if spec.row_model is not None:
        assert set(described_fields(spec.row_model)) <= set(form.row_form.base_fields)


def _workbook_texts(plan) -> dict[str, set]:
    """Every text in the exported workbook, by sheet."""
    book = load_workbook(BytesIO(plan_export_xlsx(plan=plan, user=None)[0]))
    return {
        ws.title: {value for row in ws.iter_rows(values_only=True) for value in row if value}
        for ws in book.worksheets
    }


def _in_workbook(spec, texts: dict[str, set], years: list[str]) -> bool:
    """Every asked field of the part has its label (or its column's heading) on the part's
    sheet of the exported workbook."""
    on_sheet = texts.get(spec.sheet_name, set())
    labels = [cell.header for cell in cells(spec.content, years)]
    if spec.content.asks_heading:
        labels = [spec.title]
    if spec.row_model is not None:
        labels += [spec.table_heading] + [cell.header for cell in cells(spec.row_model, years)]
    return bool(labels) and all(label in on_sheet for label in labels)


def _shown_in(where: str, spec, *, web: str, workbook: dict, pdf: str, years) -> bool:
    if where == WEB:
        return spec.heading in web
    if where == WORKBOOK:
        return _in_workbook(spec, workbook, years)
    return spec.heading in pdf


@pytest.mark.parametrize("where", [WEB, WORKBOOK, PDF])
def test_every_part_is_on_the_pages_in_the_workbook_and_the_pdf_or_says_why_not(
    client, world, plan, where
):
    client.force_login(world.commissioner)
    web = "".join(
        client.get(reverse("part", args=[world.area.slug, plan.round.slug, spec.key]))
        .content.decode()
        .replace("&amp;", "&")
        for spec in PARTS
    )
    workbook = _workbook_texts(plan)
    pdf, _ = plan_print_html(plan)
    pdf = pdf.replace("&amp;", "&")
    for spec in PARTS:
        shown = _shown_in(
            where, spec, web=web, workbook=workbook, pdf=pdf, years=plan.round.year_labels
        )
        if where in spec.left_out:
            assert spec.left_out[where].strip(), f"{spec.key} is left out of {where} with no reason"
            assert not shown, f"{spec.key} is listed as left out of {where} but is there"
        else:
            assert shown, f"{spec.title} is missing from the {where} and not listed as left out"


@pytest.mark.parametrize(
    "key, content",
    [
        (PartKey.VISION, {"text": "x" * 10_001}),
        (PartKey.VISION, {"text": "Fine", "unknown": "kept nowhere"}),
        (PartKey.JOINT_ASSESSMENT, {"high_risk_percent": "150"}),
        (PartKey.JOINT_ASSESSMENT, {"high_risk_percent": "12.345"}),
        (PartKey.DATA_SHARING, {"nhs_number_used": "maybe"}),
        (PartKey.DATA_SHARING, {"nhs_number_by": "2015-02-31"}),
        (PartKey.RELATED_DOCUMENTS, {"rows": [{"title": "x", "url": "javascript:alert(1)"}]}),
        (PartKey.SCHEMES, {"rows": [{"name": "A", "spend": {"2019/20": "10.00"}}]}),
        (PartKey.SCHEMES, {"rows": [{"name": "A", "spend": {"2014/15": "-10.00"}}]}),
        (PartKey.RISKS, {"rows": [{"description": "A", "impact": "X"}]}),
        (
            PartKey.CONTRIBUTIONS,
            {"amounts": [{"organisation": 1, "stream": "nope", "year": "2014/15", "amount": "1"}]},
        ),
        (PartKey.ARRANGEMENTS, {"notice_days": "0"}),
        # Each risk within its field's limit, but together more text than a part may hold.
        (PartKey.RISKS, {"rows": [{"description": "x" * 10_000} for _ in range(11)]}),
    ],
)
def test_part_save_refuses_content_that_does_not_fit_whoever_calls_it(world, plan, key, content):
    part = plan.parts.get(key=key)
    with pytest.raises(ValidationError) as refused:
        part_save(
            part=part,
            content=content,
            status="in_progress",
            base_version=part.version,
            user=world.commissioner,
        )
    assert refused.value.messages
    assert all("cannot be saved" in message for message in refused.value.messages)
    saved = Part.objects.get(pk=part.pk)
    assert (saved.version, saved.content) == (part.version, part.content)


def test_content_that_fits_is_stored_in_its_described_shape(world, plan):
    part = plan.parts.get(key=PartKey.JOINT_ASSESSMENT)
    saved = part_save(
        part=part,
        content={"high_risk_percent": "3.5", "confirmation": "Yes"},
        status="in_progress",
        base_version=part.version,
        user=world.commissioner,
    )
    assert saved.content == {
        "confirmation": "Yes",
        "high_risk_percent": "3.5",
        "risk_stratification": "",
        "joint_care_plan_percent": "",
    }


def test_every_asked_field_has_a_kind_and_a_label():
    for spec in PARTS:
        models = [spec.content] + ([spec.row_model] if spec.row_model else [])
        for model in models:
            for question in questions(model):
                assert question.label and question.kind


def test_a_part_over_its_text_limit_is_refused_in_words(world, plan):
    part = plan.parts.get(key=PartKey.RISKS)
    rows = [{"description": "x" * 10_000, "mitigation": "y" * 10} for _ in range(11)]
    with pytest.raises(ValidationError) as refused:
        part_save(
            part=part,
            content={"rows": rows},
            status="in_progress",
            base_version=part.version,
            user=world.commissioner,
        )
    [message] = refused.value.messages
    assert "110,110 characters of text" in message
    assert "the most one part can hold is 100,000" in message
