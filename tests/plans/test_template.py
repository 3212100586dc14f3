"""The template, described once: every part is in the description, every write passes it, and
the pages, the workbook and the PDF show every part unless the description says why not."""

from io import BytesIO
from pathlib import Path

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
from plans.template import PARTS, PDF, WEB, WORKBOOK, Kind, cells, questions

# The Draft Plan Submission Template's own text, as NHS England published it, kept in the
# repository so the test reads the same words on any machine.
SEED = (Path(__file__).parents[2] / "fixtures" / "template_words.txt").read_text()


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


def _marked(spec) -> tuple[dict, list[str]]:
    """Content for the part with every text it asks (its rows' included) set to a text of its
    own, and those texts: what each place that shows the part must show."""
    marks: list[str] = []

    def filled(model, where: str) -> dict:
        content = {}
        for question in questions(model):
            if question.kind in (Kind.TEXT, Kind.SHORT_TEXT):
                content[question.name] = f"Mark {spec.key} {where} {question.name}"
                marks.append(content[question.name])
                if question.ask.other_of:  # shown in the place of its choice, when "other"
                    content[question.ask.other_of] = "other"
        return content

    content = filled(spec.content, "part")
    if spec.row_model is not None:
        content["rows"] = [filled(spec.row_model, "row")]
    return content, marks


def _on_the_web(client, plan, spec) -> str:
    """The part's page, and its row's own page where its rows are each edited on their own."""
    url = reverse("part", args=[plan.area.slug, plan.round.slug, spec.key])
    pages = [client.get(url).content.decode()]
    if spec.row_model is not None and spec.row_model.overview:
        pages.append(client.get(url + "rows/1/").content.decode())
    return "".join(pages)


@pytest.mark.parametrize("where", [WEB, WORKBOOK, PDF])
def test_every_part_is_on_the_pages_in_the_workbook_and_the_pdf_or_says_why_not(
    client, world, plan, where
):
    """Every part, each text it asks included, is on its page, its sheet and in the paper, unless
    the description lists it as left out of that place with a reason."""
    marks = {}
    for spec in PARTS:
        content, marks[spec.key] = _marked(spec)
        part = plan.parts.get(key=spec.key)
        part_save(
            part=part, content=content, status="in_progress", base_version=part.version, user=None
        )
    client.force_login(world.commissioner)
    workbook = _workbook_texts(plan)
    pdf = plan_print_html(plan)[0].replace("&amp;", "&") if where == PDF else ""
    for spec in PARTS:
        if where == WEB:
            shown = _on_the_web(client, plan, spec).replace("&amp;", "&")
            present = [spec.heading in shown, *(mark in shown for mark in marks[spec.key])]
        elif where == WORKBOOK:
            sheet = " ".join(str(v) for v in workbook.get(spec.sheet_name, ()))
            present = [
                _in_workbook(spec, workbook, plan.round.year_labels),
                *(mark in sheet for mark in marks[spec.key]),
            ]
        else:
            present = [spec.heading in pdf, *(mark in pdf for mark in marks[spec.key])]
        if where in spec.left_out:
            assert spec.left_out[where].strip(), f"{spec.key} is left out of {where} with no reason"
            assert not any(present), f"{spec.key} is listed as left out of {where} but is there"
        else:
            missing = [
                m for m, ok in zip(["heading", *marks[spec.key]], present, strict=True) if not ok
            ]
            assert not missing, f"{spec.title} is not whole in the {where}: {missing}"


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


def test_a_part_added_to_the_template_reaches_the_plans_made_before_it_at_migrate(
    client, world, plan
):
    """The README's steps for adding a question: the description's new part has no row in a
    plan made before it; the next migrate makes one, so its page, the task list and the
    workbook work for that plan at once."""
    from django.core.management.sql import emit_post_migrate_signal

    plan.parts.filter(key=PartKey.GOVERNANCE).delete()  # as if the part were new
    emit_post_migrate_signal(0, False, "default")
    assert plan.parts.get(key=PartKey.GOVERNANCE).version == 0
    assert plan.parts.count() == len(PARTS)
    client.force_login(world.commissioner)
    page = reverse("part", args=[plan.area.slug, plan.round.slug, PartKey.GOVERNANCE])
    assert client.get(page).status_code == 200
    tasks = reverse("task_list", args=[plan.area.slug, plan.round.slug])
    assert client.get(tasks).status_code == 200
    assert _workbook_texts(plan)


def test_the_cover_and_the_spend_table_read_the_same_words_on_the_page_the_sheet_and_the_paper(
    client, world, plan
):
    from plans.template import COVER, HealthSpend

    assert f"{COVER.hwb_agreed_on}:" in SEED and f"{COVER.minimum}: 2014/15" in SEED
    assert f"{HealthSpend.line_heading}\t2013/14 spend" in SEED
    client.force_login(world.commissioner)
    summary = client.get(reverse("part", args=[plan.area.slug, plan.round.slug, "summary"]))
    spend = client.get(reverse("part", args=[plan.area.slug, plan.round.slug, "spend"]))
    workbook = _workbook_texts(plan)
    paper = plan_print_html(plan)[0].replace("&amp;", "&")
    for words in (COVER.hwb_agreed_on, COVER.submitted_on, COVER.minimum, COVER.total):
        assert words in summary.content.decode().replace("&amp;", "&")
        assert any(str(text).startswith(words) for text in workbook["Cover"])
        assert words in paper
    assert f">{HealthSpend.line_heading}</th>" in spend.content.decode()
    assert HealthSpend.line_heading in workbook[PAGES["spend"].sheet_name]


@pytest.mark.parametrize("spec", [s for s in PARTS if s.row_model is not None], ids=lambda s: s.key)
def test_each_table_names_its_rows_by_one_of_its_asked_fields(spec):
    assert spec.row_model.named_by in {q.name for q in questions(spec.row_model)}


def test_a_migrate_before_the_new_parts_migration_is_made_waits_for_it(world, plan, monkeypatch):
    """`make manage ARGS="makemigrations plans"` migrates first, while the database still refuses
    the new part's key: that migrate must not fail, and adds the part once its migration is."""
    from types import SimpleNamespace

    from django.core.management.sql import emit_post_migrate_signal

    import plans.services

    monkeypatch.setattr(
        plans.services, "PartKey", SimpleNamespace(values=[*PartKey.values, "workforce"])
    )
    emit_post_migrate_signal(0, False, "default")  # no IntegrityError escapes
    assert not plan.parts.filter(key="workforce").exists()
    assert plan.parts.count() == len(PARTS)
