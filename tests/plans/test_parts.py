import pytest
from django.urls import reverse

from finance.services import part_save
from governance.constants import Role
from plans.constants import PartStatus, PlanState
from plans.models import Comment, Part
from plans.registry import PARTS
from plans.services import plan_current_round, plan_open
from tests.factories import (
    date_typed,
    member_make,
    part_post_data,
    row_post_data,
    row_url,
    rows_add,
)


@pytest.fixture
def plan(world):
    return plan_open(area=world.area, round=plan_current_round())


def part_url(plan, key, name="part", **extra):
    return reverse(
        name, kwargs={"slug": plan.area.slug, "round_slug": plan.round.slug, "key": key, **extra}
    )


def save(client, plan, key, content, **kwargs):
    return client.post(part_url(plan, key), part_post_data(plan, key, content, **kwargs))


def test_a_commissioner_saves_a_part_and_marks_it_complete(client, world, plan):
    client.force_login(world.commissioner)
    response = save(
        client, plan, "vision", {"text": "People live well at home."}, status="complete"
    )
    assert response.status_code == 302
    part = plan.parts.get(key="vision")
    assert part.content == {"text": "People live well at home."}
    assert part.status == PartStatus.COMPLETE
    assert part.version == 1
    assert part.updated_by == world.commissioner
    page = client.get(response.url).content.decode()
    assert f"1 of {len(PARTS)} parts complete" in page


def test_complete_needs_every_answer(client, world, plan):
    client.force_login(world.commissioner)
    response = save(client, plan, "vision", {"text": ""}, status="complete")
    assert response.status_code == 400
    assert "before marking this part complete" in response.content.decode()
    assert plan.parts.get(key="vision").version == 0


@pytest.mark.parametrize(
    "key,content,message",
    [
        ("vision", {"text": "x" * 10_001}, "must be 10,000 characters or fewer"),
        (
            "related_documents",
            {"rows": [{"title": "Plan", "url": "javascript:alert(1)"}]},
            "Document 1: Enter a web address starting http:// or https://",
        ),
        (
            "related_documents",
            {"rows": [{"title": "Plan", "url": "ftp://example.org/plan.pdf"}]},
            "Enter a web address starting http:// or https://",
        ),
        ("joint_assessment", {"high_risk_percent": "101"}, "must be a percentage from 0 to 100"),
        (
            "joint_assessment",
            {"joint_care_plan_percent": "-1"},
            "must be a percentage from 0 to 100",
        ),
        (
            "data_sharing",
            {"nhs_number_used": "no", "nhs_number_commitment": "By 2015"},
            "enter the date by which it will be the primary identifier",
        ),
        (
            "metrics",
            {
                "rows": [
                    {
                        "name": "Delayed transfers of care",
                        "national": True,
                        "projections": {"2014/15": "lots"},
                    }
                ]
            },
            "2014/15 projected delivery must be a number",
        ),
    ],
)
def test_bad_input_is_explained_and_changes_nothing(client, world, plan, key, content, message):
    client.force_login(world.commissioner)
    response = save(client, plan, key, content)
    assert response.status_code == 400
    page = response.content.decode()
    assert "There is a problem" in page
    assert message in page
    part = plan.parts.get(key=key)
    assert part.version == 0
    assert part.content == {}


def test_the_five_national_metrics_are_always_there_and_cannot_be_removed(client, world, plan):
    client.force_login(world.commissioner)
    data = part_post_data(plan, "metrics", {"outcomes": "Fewer admissions"})
    data["rows-0-DELETE"] = "on"
    response = client.post(part_url(plan, "metrics"), data)
    assert response.status_code == 400
    assert "The national measures cannot be removed." in response.content.decode()
    data.pop("rows-0-DELETE")
    data.update(
        {
            "rows-5-name": "Falls admissions",
            "rows-5-unit": "per 100,000",
            "rows-5-baseline": "2,140",
        }
    )
    assert (
        client.post(part_url(plan, "metrics"), data).status_code == 400
    )  # "2,140" is not a number
    data["rows-5-baseline"] = "2140"
    assert client.post(part_url(plan, "metrics"), data).status_code == 302
    rows = plan.parts.get(key="metrics").content["rows"]
    assert [row["name"] for row in rows][:5] == [
        "Delayed transfers of care",
        "Emergency admissions",
        "Effectiveness of reablement",
        "Admissions to residential and nursing care",
        "Patient and service-user experience",
    ]
    assert rows[5] == {
        "name": "Falls admissions",
        "national": False,
        "unit": "per 100,000",
        "baseline": "2140",
        "baseline_date": "",
        "projections": {"2014/15": "", "2015/16": ""},
    }


def test_risks_are_added_and_removed_and_their_rating_is_derived(client, world, plan):
    client.force_login(world.commissioner)
    risks = [
        {"description": "Savings fall short", "impact": "H", "probability": "M", "owner": "CFO"},
        {"description": "Staff resist change", "impact": "L", "probability": "L"},
    ]
    rows_add(client, plan, "risks", risks)
    overview = client.get(part_url(plan, "risks")).content.decode()
    assert '<td class="nhsuk-table__cell">High</td>' in overview  # the rating, worked out
    page = client.get(row_url(plan, "risks", 1)).content.decode()
    assert "Savings fall short" in page
    assert "Remove this risk" in page
    was = client.get(row_url(plan, "risks", 2, "remove/")).context["was"]
    removed = client.post(row_url(plan, "risks", 2, "remove/"), {"base_version": "2", "was": was})
    assert removed.status_code == 302
    rows = plan.parts.get(key="risks").content["rows"]
    assert [row["description"] for row in rows] == ["Savings fall short"]


def test_a_reviewer_reads_but_cannot_edit(client, world, plan):
    client.force_login(world.reviewer)
    page = client.get(part_url(plan, "vision")).content.decode()
    assert "Have you finished this part?" not in page
    assert "Add a comment" in page
    response = save(client, plan, "vision", {"text": "Sneaky"})
    assert response.status_code == 403
    assert "Only commissioners of this area can change this part" in response.content.decode()
    assert plan.parts.get(key="vision").version == 0


def test_a_forged_post_to_another_areas_part_is_not_found(client, world, plan):
    other = plan_open(area=world.other_area, round=plan.round)
    client.force_login(world.commissioner)
    response = client.post(
        part_url(other, "vision"), part_post_data(other, "vision", {"text": "x"})
    )
    assert response.status_code == 404
    assert other.parts.get(key="vision").version == 0


def test_a_second_save_from_the_same_version_sees_the_conflict_and_loses_nothing(
    client, world, plan
):
    other = member_make(world.area, Role.COMMISSIONER)
    client.force_login(world.commissioner)
    assert save(client, plan, "vision", {"text": "Care close to home."}).status_code == 302
    # Both open version 1.
    first = part_post_data(plan, "vision", {"text": "Care close to home, seven days a week."})
    second = part_post_data(plan, "vision", {"text": "Care close to home for everyone."})
    assert client.post(part_url(plan, "vision"), first).status_code == 302
    client.force_login(other)
    response = client.post(part_url(plan, "vision"), second)
    assert response.status_code == 409
    page = response.content.decode()
    assert "while you were editing it" in page
    assert "Care close to home for everyone." in page  # their own text, kept in the form
    assert "seven days a week." in page  # the colleague's version
    assert "<ins>everyone.</ins>" in page or "<ins>for everyone.</ins>" in page
    part = plan.parts.get(key="vision")
    assert part.content["text"] == "Care close to home, seven days a week."
    # Saving the merged text from the conflict page is based on the current version.
    merged = part_post_data(
        plan, "vision", {"text": "Care close to home for everyone, seven days a week."}
    )
    assert client.post(part_url(plan, "vision"), merged).status_code == 302
    assert plan.parts.get(key="vision").version == 3


def test_history_shows_word_level_changes_and_restore_makes_a_new_version(client, world, plan):
    client.force_login(world.commissioner)
    save(client, plan, "vision", {"text": "People stay well at home."})
    save(client, plan, "vision", {"text": "People stay independent at home."})
    page = client.get(part_url(plan, "vision", "part_history")).content.decode()
    assert "<del>well</del>" in page
    assert "<ins>independent</ins>" in page
    first = plan.parts.get(key="vision").history.get(version=1)
    response = client.post(
        part_url(plan, "vision", "part_restore", history_id=first.history_id),
        {"base_version": "2"},
    )
    assert response.status_code == 302
    part = plan.parts.get(key="vision")
    assert part.version == 3
    assert part.content["text"] == "People stay well at home."
    assert part.history.first().history_change_reason == "Restored version 1"


def test_a_restore_from_a_stale_history_page_changes_nothing(client, world, plan):
    client.force_login(world.commissioner)
    save(client, plan, "vision", {"text": "One"})
    save(client, plan, "vision", {"text": "Two"})
    first = plan.parts.get(key="vision").history.get(version=1)
    response = client.post(
        part_url(plan, "vision", "part_restore", history_id=first.history_id), {"base_version": "1"}
    )
    assert response.status_code == 302
    assert plan.parts.get(key="vision").content["text"] == "Two"


def test_history_shows_field_level_changes_for_data(client, world, plan):
    client.force_login(world.commissioner)
    rows_add(client, plan, "risks", [{"description": "Staff", "impact": "L", "probability": "L"}])
    changed = {"description": "Staff", "impact": "H", "probability": "L"}
    client.post(row_url(plan, "risks", 1), row_post_data(plan, "risks", changed, number=1))
    page = client.get(part_url(plan, "risks", "part_history")).content.decode()
    assert "Risk 1 changed" in page  # the reason the row's page gives its save
    assert "Risk 1 (Staff): Impact" in page
    assert "<del>Low</del> → <ins>High</ins>" in page


def test_no_edit_is_possible_once_the_plan_is_frozen(client, world, plan):
    plan.state = PlanState.AWAITING_SIGNOFF
    plan.save()
    client.force_login(world.commissioner)
    response = save(client, plan, "vision", {"text": "Late change"})
    assert response.status_code == 409
    page = response.content.decode()
    assert "cannot be changed" in page
    assert "Late change" in page  # what they typed is still in front of them
    assert plan.parts.get(key="vision").version == 0


def test_comments_open_resolve_and_reopen_and_are_counted_on_the_task_list(client, world, plan):
    client.force_login(world.reviewer)
    assert (
        client.post(part_url(plan, "vision", "comment_add"), {"comment-text": ""}).status_code
        == 400
    )
    response = client.post(
        part_url(plan, "vision", "comment_add"), {"comment-text": "Say more about <b>carers</b>"}
    )
    assert response.status_code == 302
    comment = Comment.objects.get()
    task_list = reverse("task_list", kwargs={"slug": "southampton", "round_slug": plan.round.slug})
    assert "1 open comment" in client.get(task_list).content.decode()
    page = client.get(part_url(plan, "vision")).content.decode()
    assert "&lt;b&gt;carers&lt;/b&gt;" in page
    client.post(part_url(plan, "vision", "comment_resolve", pk=comment.pk))
    comment.refresh_from_db()
    assert comment.resolved_by == world.reviewer
    assert "open comment" not in client.get(task_list).content.decode()
    client.post(part_url(plan, "vision", "comment_reopen", pk=comment.pk))
    comment.refresh_from_db()
    assert comment.resolved_at is None


def test_the_area_admin_assigns_a_part_to_a_member_only(client, world, plan):
    client.force_login(world.admin)
    url = part_url(plan, "vision", "part_assign")
    client.post(url, {"assignee": world.outsider.pk, **date_typed("due_date", "2014-01-10")})
    assert plan.parts.get(key="vision").assignee is None
    client.post(url, {"assignee": world.commissioner.pk, **date_typed("due_date", "2014-01-10")})
    part = plan.parts.get(key="vision")
    assert part.assignee == world.commissioner
    assert str(part.due_date) == "2014-01-10"
    client.force_login(world.commissioner)
    assert client.post(url, {"assignee": ""}).status_code == 403


def test_a_part_is_assigned_only_to_someone_who_can_change_it(client, world, plan):
    client.force_login(world.admin)
    page = client.get(part_url(plan, "vision")).content.decode()
    start = page.index('name="assignee"')
    options = page[start : page.index("</select>", start)]
    assert world.commissioner.get_full_name() in options
    assert world.reviewer.get_full_name() not in options
    client.post(part_url(plan, "vision", "part_assign"), {"assignee": world.reviewer.pk})
    assert plan.parts.get(key="vision").assignee is None


def test_presence_lists_the_others_who_have_the_part_open(client, world, plan):
    from plans.models import PartViewer

    client.force_login(world.reviewer)
    client.get(part_url(plan, "vision"))
    assert not PartViewer.objects.exists()  # a read writes nothing
    client.post(part_url(plan, "vision", "part_presence"))  # the page's script says it is open
    client.force_login(world.commissioner)
    response = client.post(part_url(plan, "vision", "part_presence"))
    assert world.reviewer.get_full_name() in response.json()["text"]
    assert world.commissioner.get_full_name() not in response.json()["text"]


def test_presence_shows_a_name_as_written(client, world, plan):
    world.reviewer.last_name = "O'Brien"
    world.reviewer.save()
    client.force_login(world.reviewer)
    client.post(part_url(plan, "vision", "part_presence"))
    client.force_login(world.commissioner)
    text = client.post(part_url(plan, "vision", "part_presence")).json()["text"]
    assert "O'Brien" in text and "&#x27;" not in text
    page = client.get(part_url(plan, "vision")).content.decode()
    assert "O&#x27;Brien" in page  # escaped once in the page, so shown as written


def test_query_counts_do_not_grow_with_rows_comments_or_history(
    client, world, plan, django_assert_max_num_queries
):
    client.force_login(world.commissioner)
    pages = [
        reverse("task_list", kwargs={"slug": "southampton", "round_slug": plan.round.slug}),
        part_url(plan, "risks"),
        part_url(plan, "metrics"),
        part_url(plan, "risks", "part_history"),
        row_url(plan, "risks"),
    ]
    counts = {}
    for url in pages:
        with django_assert_max_num_queries(30) as captured:
            client.get(url)
        counts[url] = len(captured)
    risks = [{"description": f"Risk {i}", "impact": "M", "probability": "L"} for i in range(40)]
    for round_number in range(3):
        part = plan.parts.get(key="risks")
        part_save(
            part=part,
            content={"rows": risks[: 20 + round_number * 10]},
            status="in_progress",
            base_version=part.version,
            user=world.commissioner,
        )
    pages.append(row_url(plan, "risks", 40))
    metrics = [{"name": f"Local {i}", "national": False} for i in range(20)]
    save(client, plan, "metrics", {"rows": metrics})
    for i in range(15):
        client.post(part_url(plan, "risks", "comment_add"), {"comment-text": f"Comment {i}"})
    for url in pages:
        with django_assert_max_num_queries(counts.get(url, counts[row_url(plan, "risks")])):
            assert client.get(url).status_code == 200


def test_a_part_with_an_unknown_key_is_not_found(client, world, plan):
    client.force_login(world.commissioner)
    assert client.get(part_url(plan, "nonsense")).status_code == 404
    assert Part.objects.filter(key="nonsense").count() == 0


def test_the_plan_summary_starts_from_the_areas_boundary_note(client, world):
    from plans.services import area_save

    area = area_save(
        area=world.other_area,
        name="Rotherham",
        slug="rotherham",
        boundary_differences="The CCG and council share one boundary.",
        partners=list(world.other_area.partners.all()),
    )
    plan = plan_open(area=area, round=plan_current_round())
    client.force_login(world.outsider)
    page = client.get(part_url(plan, "summary")).content.decode()
    assert "The CCG and council share one boundary." in page
    assert "Rotherham Council" in page
    summary = plan.parts.get(key="summary")
    summary.content, summary.version = {"boundary_differences": "Written by the authors."}, 1
    summary.save()
    area_save(
        area=area,
        name="Rotherham",
        slug="rotherham",
        boundary_differences="A later note.",
        partners=list(area.partners.all()),
    )
    summary.refresh_from_db()  # a summary someone has written is theirs: the note does not touch it
    assert summary.content == {"boundary_differences": "Written by the authors."}


def test_a_stale_save_of_a_list_part_reaches_the_conflict_page_and_keeps_both_documents(
    client, world, plan
):
    client.force_login(world.commissioner)
    one = [{"title": "Section 75 agreement", "url": "https://example.org/s75"}]
    save(client, plan, "related_documents", {"rows": one})
    # Both open the page with one document (and one blank row).
    opened = plan.parts.get(key="related_documents").content
    alice = part_post_data(plan, "related_documents", opened)
    alice.update({"rows-1-title": "Joint strategy", "rows-1-url": "https://example.org/js"})
    bob = part_post_data(plan, "related_documents", opened)
    bob["rows-0-title"] = "Section 75 agreement, signed in March"
    assert client.post(part_url(plan, "related_documents"), alice).status_code == 302
    response = client.post(part_url(plan, "related_documents"), bob)
    assert response.status_code == 409
    assert "Section 75 agreement, signed in March" in response.content.decode()
    rows = plan.parts.get(key="related_documents").content["rows"]
    assert [row["title"] for row in rows] == ["Section 75 agreement", "Joint strategy"]
    # The conflict page's form is based on the current version: saving it keeps Alice's row.
    base = response.context["form"]["base_version"].value()
    current = plan.parts.get(key="related_documents").content
    merged = part_post_data(plan, "related_documents", current, version=int(base))
    merged["rows-0-title"] = "Section 75 agreement, signed in March"
    assert client.post(part_url(plan, "related_documents"), merged).status_code == 302
    rows = plan.parts.get(key="related_documents").content["rows"]
    assert [row["title"] for row in rows] == [
        "Section 75 agreement, signed in March",
        "Joint strategy",
    ]


def test_a_tampered_row_count_cannot_drop_the_national_measures(client, world, plan):
    client.force_login(world.commissioner)
    data = part_post_data(plan, "metrics", {"outcomes": "Fewer admissions"})
    data["rows-TOTAL_FORMS"] = "0"
    response = client.post(part_url(plan, "metrics"), data)
    assert response.status_code == 400
    assert "The national measures cannot be removed." in response.content.decode()
    assert plan.parts.get(key="metrics").version == 0


def test_a_cleared_document_row_is_dropped_not_saved_empty(client, world, plan):
    client.force_login(world.commissioner)
    docs = [{"title": "Plan", "url": "https://example.org/plan.pdf"}]
    save(client, plan, "related_documents", {"rows": docs})
    data = part_post_data(
        plan, "related_documents", plan.parts.get(key="related_documents").content
    )
    data["rows-0-title"] = data["rows-0-url"] = ""
    assert client.post(part_url(plan, "related_documents"), data).status_code == 302
    assert plan.parts.get(key="related_documents").content["rows"] == []


def test_history_shows_saves_made_by_no_one_in_particular(client, world, plan):
    from finance.services import part_save

    part = plan.parts.get(key="vision")
    part_save(
        part=part,
        content={"text": "From the demo"},
        status="in_progress",
        base_version=0,
        user=None,
    )
    client.force_login(world.reviewer)
    response = client.get(part_url(plan, "vision", "part_history"))
    assert response.status_code == 200
    assert "the system" in response.content.decode()


def test_assignment_to_someone_outside_the_area_is_refused_by_the_domain_rule(world, plan):
    from django.core.exceptions import ValidationError

    from plans.services import part_assign

    with pytest.raises(ValidationError, match="Choose a member of this area"):
        part_assign(part=plan.parts.get(key="vision"), assignee=world.outsider, due_date=None)
    assert plan.parts.get(key="vision").assignee is None


def test_an_empty_new_row_with_a_date_in_it_is_not_saved(client, world, plan):
    client.force_login(world.commissioner)
    data = part_post_data(plan, "metrics", {})
    assert data["rows-5-baseline_date_day"] == ""  # the new row's empty date is posted too
    assert client.post(part_url(plan, "metrics"), data).status_code == 302
    rows = plan.parts.get(key="metrics").content["rows"]
    assert [row["national"] for row in rows] == [True] * 5


def test_a_long_history_is_paged_each_page_in_the_same_queries(
    client, world, plan, django_assert_max_num_queries
):
    """500 saves: 20 entries a page, newest first, each compared with the version before it
    (the last of a page too, with the first of the next); any page costs what the first page
    costs, and only the newest version cannot be restored."""
    from plans.services import part_save

    part = plan.parts.get(key="vision")
    for number in range(1, 501):
        part_save(
            part=part,
            content={"text": f"Version {number} of our vision."},
            status="in_progress",
            base_version=number - 1,
            user=world.commissioner,
        )
    client.force_login(world.commissioner)
    url = part_url(plan, "vision", "part_history")
    with django_assert_max_num_queries(30) as first:
        page = client.get(url).content.decode()
    assert page.count('data-testid="history-entry"') == 20
    assert "Entries 1 to 20 of 500, newest first." in page
    assert "<del>499</del>" in page and "<ins>500</ins>" in page
    assert "<del>480</del>" in page and "<ins>481</ins>" in page  # the page's last entry
    assert page.count("Restore version") == 19  # not the newest
    assert 'href="?page=2"' in page and 'rel="prev"' not in page
    with django_assert_max_num_queries(len(first)):
        page = client.get(url + "?page=2").content.decode()
    assert "<del>479</del>" in page and "<ins>480</ins>" in page
    assert page.count("Restore version") == 20
    assert 'href="?page=1"' in page and 'href="?page=3"' in page
    last = client.get(url + "?page=25").content.decode()
    assert "Entries 481 to 500 of 500" in last and 'rel="next"' not in last
    assert "Version 1 of our vision." in last
    assert "Entries 481 to 500 of 500" in client.get(url + "?page=999").content.decode()
    assert "Entries 1 to 20 of 500" in client.get(url + "?page=x").content.decode()


def test_a_part_shows_its_latest_comments_and_pages_all_of_them_in_the_same_queries(
    client, world, plan, django_assert_max_num_queries
):
    """35 comments, 5 of them resolved: the part's page shows the latest 10 and counts 30
    open; all of them are on pages of 20, newest first, and resolving one from its page goes
    back to that page."""
    from plans.services import comment_add, comment_resolve

    part = plan.parts.get(key="vision")
    comments = [
        comment_add(part=part, author=world.reviewer, text=f"Comment number {n}.")
        for n in range(1, 36)
    ]
    for comment in comments[:5]:
        comment_resolve(comment=comment, user=world.reviewer, resolved=True)
    client.force_login(world.reviewer)
    with django_assert_max_num_queries(40) as few:
        page = client.get(part_url(plan, "vision")).content.decode()
    assert page.count('data-testid="comment"') == 10
    assert "Comment number 26." in page and "Comment number 25." not in page
    assert "(30 open)" in page and "See all 35 comments" in page
    # The latest comments and the counts of them all are one query.
    read = [q["sql"] for q in few.captured_queries if 'FROM "plans_comment"' in q["sql"]]
    assert len(read) == 1, read
    comment_add(part=part, author=world.reviewer, text="One more.")
    with django_assert_max_num_queries(len(few)):
        client.get(part_url(plan, "vision"))
    assert "(0 open)" in client.get(part_url(plan, "aims")).content.decode()
    url = part_url(plan, "vision", "part_comments")
    first = client.get(url).content.decode()
    assert first.count('data-testid="comment"') == 20
    assert "Comments 1 to 20 of 36, newest first." in first
    assert first.index("One more.") < first.index("Comment number 35.")
    second = client.get(url + "?page=2").content.decode()
    assert second.count('data-testid="comment"') == 16 and "Comment number 1." in second
    response = client.post(
        part_url(plan, "vision", "comment_reopen", pk=comments[0].pk), {"comments_page": "2"}
    )
    assert response.status_code == 302 and response["Location"] == url + "?page=2"
    comments[0].refresh_from_db()
    assert comments[0].resolved_at is None
    response = client.post(
        part_url(plan, "vision", "comment_resolve", pk=comments[0].pk),
        {"comments_page": "https://elsewhere.example/"},
    )
    assert response["Location"].endswith("/parts/vision/#comments")  # never another address
    client.force_login(world.outsider)
    assert client.get(url).status_code == 404
