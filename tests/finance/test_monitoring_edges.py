"""In-year monitoring at its edges, as a reviewer and an attacker tried it: hostile inputs,
people acting for others, the rules at their limits, the pages' queries, the words shown, and
races."""

import copy
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from finance.models import QuarterlyReturn
from finance.rules import (
    notice_needed,
    risk_share_split,
    working_days_after,
)
from governance.models import Seal, VarianceNotice
from governance.monitoring import (
    figures_for,
    quarter_find,
    return_digest,
    return_save,
    submitted_seal,
)
from plans.models import Plan
from tests.finance.test_monitoring import page, person, plymouth, posted, return_url


@pytest.fixture(autouse=True)
def demo(submitted_demo, db):
    """The demo as `make run` loads it; each test's changes rolled back after it."""


def snapshot_change(plan, change):
    """Rewrite the submitted seal's snapshot in place (as a plan sealed with other parts)."""
    seal = submitted_seal(plan)
    snapshot = copy.deepcopy(seal.snapshot)
    change(snapshot)
    Seal.objects.filter(pk=seal.pk).update(snapshot=snapshot)
    return snapshot


# ---- Inputs that should never give a server error ------------------------------------------


def test_a_plan_with_many_schemes_each_forecast_at_the_limit_is_refused_not_a_server_error(client):
    """Each amount is allowed up to £10bn and the plan may have up to 1,000 schemes, but the
    notice's columns hold 14 digits (under £1tn): 101 schemes at £10bn overflow them."""
    plan = plymouth()

    def many(snapshot):
        rows = snapshot["parts"]["schemes"]["content"]["rows"]
        extra = copy.deepcopy(rows[0])
        extra["name"] = "Extra"
        extra["spend"] = {k: "0" for k in extra.get("spend", {})}
        rows.extend(copy.deepcopy(extra) | {"name": f"Extra {n}"} for n in range(110))

    snapshot_change(plan, many)
    client.raise_request_exception = False
    client.force_login(person("plymouth-finance"))
    rows = len(submitted_seal(plan).snapshot["parts"]["schemes"]["content"]["rows"])
    change = {f"forecast_{n}": "10,000,000,000" for n in range(rows)}
    response = client.post(return_url(plan, "2015-16-q3"), posted(plan, "2015-16-q3", change))
    assert response.status_code in (302, 400), response.status_code


def test_an_out_of_range_id_in_the_acknowledge_or_confirm_address_is_not_found(client):
    plan = plymouth()
    client.raise_request_exception = False
    client.force_login(person("plymouth-ccg-signatory"))
    huge = 10**20
    notice = VarianceNotice.objects.get(plan=plan)
    url = page(plan, "notice_acknowledge", pk=huge, organisation_id=huge)
    assert client.post(url).status_code == 404
    url = page(plan, "notice_acknowledge", pk=notice.pk, organisation_id=huge)
    assert client.post(url).status_code == 404
    client.force_login(person("plymouth-ccg-finance"))
    url = page(plan, "return_confirm", quarter="2015-16-q2", organisation_id=huge)
    assert client.post(url, {"digest": "x"}).status_code == 404


@pytest.mark.parametrize(
    "field, value",
    [
        ("forecast_0", "NaN"),
        ("forecast_0", "Infinity"),
        ("forecast_0", "-5"),
        ("forecast_0", "1e9"),
        ("forecast_0", "99999999999999999999999999999999"),
        ("forecast_0", "12.345"),
        ("actual_0", "NaN"),
        ("actual_0", "-Infinity"),
        ("actual_0", "1e-400"),
        ("actual_0", "9" * 40),
        ("base_version", "-1"),
        ("base_version", "x"),
        ("base_version", "9" * 30),
        ("note", "a\x00b"),
    ],
)
def test_hostile_values_in_the_return_form_are_refused_with_a_message_and_kept(
    client, field, value
):
    plan = plymouth()
    client.raise_request_exception = False
    client.force_login(person("plymouth-finance"))
    response = client.post(
        return_url(plan, "2015-16-q3"), posted(plan, "2015-16-q3", {field: value})
    )
    assert response.status_code in (400, 409), response.status_code


def test_a_return_post_without_its_base_version_is_refused_in_plain_words(client):
    plan = plymouth()
    client.force_login(person("plymouth-finance"))
    data = posted(plan, "2015-16-q3", {"forecast_0": "17,158,000"})
    del data["base_version"]
    response = client.post(return_url(plan, "2015-16-q3"), data)
    text = response.content.decode()
    assert response.status_code in (400, 409)
    assert 'value="17,158,000"' in text  # the typing is kept
    # "This field is required." for a hidden field the person never saw is no help.
    assert "This field is required" not in text


def test_a_digest_of_another_return_does_not_confirm_this_one(client):
    plan = plymouth()
    ccg = plan.area.partners.get(kind="ccg")
    q1 = QuarterlyReturn.objects.get(plan=plan, year="2015/16", quarter=1)
    client.force_login(person("plymouth-ccg-finance"))
    url = page(plan, "return_confirm", quarter="2015-16-q2", organisation_id=ccg.pk)
    response = client.post(url, {"digest": return_digest(q1)}, follow=True)
    assert "The return has changed since you opened it" in response.content.decode()
    q2 = QuarterlyReturn.objects.get(plan=plan, year="2015/16", quarter=2)
    assert not q2.signoffs.filter(organisation=ccg, withdrawn_at__isnull=True).exists()


def test_another_areas_notice_or_organisation_in_the_address_is_refused(client):
    plan = plymouth()
    notice = VarianceNotice.objects.get(plan=plan)
    devon = Plan.objects.select_related("area", "round").get(area__slug="devon")
    devon_org = devon.area.partners.exclude(pk__in=plan.area.partners.all()).first()
    # The Plymouth notice through Devon's address: not found.
    client.force_login(person("devon-ccg-signatory"))
    url = page(devon, "notice_acknowledge", pk=notice.pk, organisation_id=devon_org.pk)
    assert client.post(url).status_code == 404
    # Plymouth's notice for a Devon organisation by a Plymouth signatory: refused.
    client.force_login(person("plymouth-ccg-signatory"))
    url = page(plan, "notice_acknowledge", pk=notice.pk, organisation_id=devon_org.pk)
    assert client.post(url).status_code == 403
    assert notice.acknowledgements.count() == 1


@pytest.mark.parametrize(
    "name", ["plymouth-reviewer", "plymouth-commissioner", "plymouth-chair", "national-admin"]
)
def test_people_who_do_not_record_cannot_save_confirm_or_acknowledge(client, name):
    plan = plymouth()
    ccg = plan.area.partners.get(kind="ccg")
    notice = VarianceNotice.objects.get(plan=plan)
    client.force_login(person(name))
    data = posted(plan, "2015-16-q3", {"forecast_0": "17,158,000"})
    assert client.post(return_url(plan, "2015-16-q3"), data).status_code in (403, 404)
    q2 = QuarterlyReturn.objects.get(plan=plan, year="2015/16", quarter=2)
    url = page(plan, "return_confirm", quarter="2015-16-q2", organisation_id=ccg.pk)
    assert client.post(url, {"digest": return_digest(q2)}).status_code in (403, 404)
    url = page(plan, "notice_acknowledge", pk=notice.pk, organisation_id=ccg.pk)
    assert client.post(url).status_code in (403, 404)
    assert not QuarterlyReturn.objects.filter(plan=plan, quarter=3).exists()
    assert notice.acknowledgements.count() == 1
    assert not q2.signoffs.filter(organisation=ccg, withdrawn_at__isnull=True).exists()


def test_the_chair_cannot_note_before_every_partner_confirms(client):
    plan = plymouth()
    q2 = QuarterlyReturn.objects.get(plan=plan, year="2015/16", quarter=2)
    client.force_login(person("plymouth-chair"))
    url = page(plan, "return_note", quarter="2015-16-q2")
    response = client.post(url, {"digest": return_digest(q2)}, follow=True)
    assert "still to confirm" in response.content.decode()
    assert not q2.signoffs.filter(kind="noted").exists()


# ---- Sign-off ------------------------------------------------------------------------------


def test_saving_a_return_unchanged_keeps_its_confirmations_and_note(client):
    """A change withdraws the sign-off: pressing Save again on the same figures is no change,
    yet it withdraws both confirmations and the chair's note, 'The return was changed'."""
    plan = plymouth()
    q1 = QuarterlyReturn.objects.get(plan=plan, year="2015/16", quarter=1)
    assert q1.signoffs.filter(withdrawn_at__isnull=True).count() == 3
    client.force_login(person("plymouth-finance"))
    assert (
        client.post(return_url(plan, "2015-16-q1"), posted(plan, "2015-16-q1")).status_code == 302
    )
    q1.refresh_from_db()
    assert q1.signoffs.filter(withdrawn_at__isnull=True).count() == 3, list(
        q1.signoffs.values_list("withdrawn_reason", flat=True)
    )


# ---- Rules ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raised, due",
    [
        # Maundy Thursday 2016: Good Friday 25 and Easter Monday 28 March are holidays.
        (date(2016, 3, 24), date(2016, 4, 11)),
        # Friday 23 December 2016: 26, 27 December and 2 January 2017 (substitutes) are holidays.
        (date(2016, 12, 23), date(2017, 1, 11)),
        # Christmas Eve 2015, a Thursday: 25, 28 December and 1 January are holidays.
        (date(2015, 12, 24), date(2016, 1, 12)),
        # Raised on a Saturday: the first working day is Monday.
        (date(2015, 7, 18), date(2015, 7, 31)),
    ],
)
def test_a_notice_is_due_ten_working_days_on_across_the_holidays(raised, due):
    assert working_days_after(raised, 10) == due


@pytest.mark.parametrize(
    "amount", ["0.01", "0.02", "100.00", "100.01", "26742000.01", "-0.01", "-100.00"]
)
def test_a_three_way_split_adds_up_to_the_penny(amount):
    amount = Decimal(amount)
    shares = risk_share_split(amount, {1: Decimal(1), 2: Decimal(1), 3: Decimal(1)})
    assert sum(shares.values()) == amount
    assert max(shares.values()) - min(shares.values()) <= Decimal("0.01")
    odd = risk_share_split(amount, {1: Decimal("33.3"), 2: Decimal("33.3"), 3: Decimal("33.4")})
    assert sum(odd.values()) == amount


def test_a_three_partner_notice_shows_percentages_that_add_up_to_a_hundred():
    """Three equal partners each shown as 33.3% is a table whose shares add up to 99.9%."""
    plan = plymouth()
    council = plan.area.partners.get(kind="la")

    def third(snapshot):
        snapshot["partners"].append({"id": council.pk + 1000, "kind": "ccg", "name": "Third CCG"})
        arrangements = snapshot["parts"]["arrangements"]["content"]
        arrangements["shares"] = {str(p["id"]): "1" for p in snapshot["partners"]}

    snapshot_change(plan, third)
    figures = figures_for(submitted_seal(plan), "2015/16", {})
    assert sum(row["bears"] for row in figures["split"]) == figures["overspend"]
    assert sum(row["percent"] for row in figures["split"]) == 100, [
        row["percent"] for row in figures["split"]
    ]


def _q1_2014(plan, forecast, user="plymouth-finance", base=0, today=date(2014, 7, 21)):
    # 2014/15: pool £5,400,000, planned the same; the section 256 transfer at position 7.
    return return_save(
        plan=plan,
        quarter=quarter_find(plan, "2014-15-q1"),
        content={"schemes": [{"position": 7, "forecast": forecast}]},
        base_version=base,
        user=person(user),
        today=today,
    )


def test_a_notice_is_raised_at_exactly_the_threshold_and_not_a_penny_below():
    plan = plymouth()
    _, notice = _q1_2014(plan, "4917999.99")  # £499,999.99 over
    assert notice is None
    _, notice = _q1_2014(plan, "4918000.00", base=1)  # £500,000.00 over
    assert notice is not None and notice.overspend == Decimal("500000.00")
    assert notice.due_on == date(2014, 8, 4)
    assert sum(Decimal(row["bears"]) for row in notice.shares) == Decimal("500000.00")


def test_an_under_spend_at_the_threshold_raises_an_under_spend_notice_split_as_agreed(client):
    plan = plymouth()
    _, notice = _q1_2014(plan, "3918000.00")  # £500,000 under
    assert notice is not None and not notice.is_overspend
    assert sum(Decimal(row["bears"]) for row in notice.shares) == Decimal("-500000.00")
    client.force_login(person("plymouth-reviewer"))
    text = client.get(page(plan)).content.decode()
    assert "A forecast under-spend of £500,000 in 2014/15" in text


def test_a_threshold_of_nothing_does_not_raise_a_new_notice_for_every_unchanged_save():
    """A materiality threshold of £0 (allowed: 0 or more) makes every save of a return with any
    variance 'move' by at least £0 since the last notice, so each re-save raises and emails a
    new notice for the same figures."""
    plan = plymouth()

    def nothing(snapshot):
        snapshot["parts"]["arrangements"]["content"]["materiality_threshold"] = "0.00"

    snapshot_change(plan, nothing)
    _, first = _q1_2014(plan, "4418100.00")  # £100 over
    assert first is not None
    _, second = _q1_2014(plan, "4418100.00", base=1)  # the same figures saved again
    assert second is None
    assert not notice_needed(Decimal("100"), Decimal("100"), {"materiality_threshold": "0"})


# ---- Sealed versions missing a part --------------------------------------------------------


@pytest.mark.parametrize(
    "dropped",
    [
        ("schemes",),
        ("metrics",),
        ("contributions", "arrangements"),
        ("schemes", "metrics", "contributions", "arrangements"),
    ],
)
def test_a_seal_without_a_part_still_draws_and_saves(client, dropped):
    plan = plymouth()

    def drop(snapshot):
        for key in dropped:
            snapshot["parts"].pop(key, None)

    snapshot_change(plan, drop)
    client.raise_request_exception = False
    client.force_login(person("plymouth-finance"))
    assert client.get(page(plan)).status_code == 200
    assert client.get(return_url(plan, "2015-16-q2")).status_code == 200
    response = client.post(return_url(plan, "2015-16-q3"), posted(plan, "2015-16-q3"))
    assert response.status_code == 302
    client.force_login(person("plymouth-ccg-signatory"))
    assert client.get(reverse("dashboard")).status_code == 200


def test_a_seal_whose_part_has_no_content_still_draws(client):
    plan = plymouth()

    def empty(snapshot):
        snapshot["parts"]["schemes"]["content"] = None
        snapshot["parts"]["metrics"]["content"] = {}
        snapshot["parts"]["arrangements"] = {"content": None}

    snapshot_change(plan, empty)
    client.raise_request_exception = False
    client.force_login(person("plymouth-finance"))
    assert client.get(page(plan)).status_code == 200
    assert client.get(return_url(plan, "2015-16-q2")).status_code == 200
    response = client.post(return_url(plan, "2015-16-q3"), posted(plan, "2015-16-q3"))
    assert response.status_code == 302


# ---- Queries -------------------------------------------------------------------------------


def _queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_monitoring_page_reads_the_same_queries_whatever_the_number_of_notices(client):
    plan = plymouth()
    client.force_login(person("plymouth-ccg-signatory"))
    client.get(page(plan))
    before = _queries(client, page(plan))
    notice = VarianceNotice.objects.get(plan=plan)
    for name in ("plymouth-admin", "plymouth-finance", "plymouth-ccg-finance"):
        VarianceNotice.objects.create(
            **{
                f.name: getattr(notice, f.name)
                for f in VarianceNotice._meta.concrete_fields
                if f.name not in ("id", "raised_at", "raised_by")
            },
            raised_by=person(name),
        )
    after = _queries(client, page(plan))
    assert after == before, (before, after)


def test_the_monitoring_page_reads_the_same_queries_whatever_the_number_of_returns(client):
    plan = plymouth()
    client.force_login(person("plymouth-ccg-signatory"))
    client.get(page(plan))
    before = _queries(client, page(plan))
    for n in (1, 2, 3):  # the demo has the fourth
        return_save(
            plan=plan,
            quarter=quarter_find(plan, f"2014-15-q{n}"),
            content={"note": f"Q{n}"},
            base_version=0,
            user=person("plymouth-finance" if n % 2 else "plymouth-admin"),
        )
    after = _queries(client, page(plan))
    assert after == before, (before, after)


def test_the_dashboard_reads_the_same_queries_whatever_the_number_of_notices_and_returns(client):
    plan = plymouth()
    client.force_login(person("plymouth-ccg-finance"))
    client.get(reverse("dashboard"))
    before = _queries(client, reverse("dashboard"))
    notice = VarianceNotice.objects.get(plan=plan)
    for _ in range(3):
        VarianceNotice.objects.create(
            **{
                f.name: getattr(notice, f.name)
                for f in VarianceNotice._meta.concrete_fields
                if f.name not in ("id", "raised_at")
            }
        )
    for n in (1, 2, 3):  # the demo has the fourth
        return_save(
            plan=plan,
            quarter=quarter_find(plan, f"2014-15-q{n}"),
            content={"note": f"Q{n}"},
            base_version=0,
            user=person("plymouth-finance"),
        )
    after = _queries(client, reverse("dashboard"))
    assert after == before, (before, after)


def test_the_return_page_reads_the_same_queries_whatever_its_history_and_sign_off(client):
    plan = plymouth()
    client.force_login(person("plymouth-ccg-signatory"))
    url = return_url(plan, "2015-16-q1")
    client.get(url)
    before = _queries(client, url)
    for n in range(4):
        found = QuarterlyReturn.objects.get(plan=plan, year="2015/16", quarter=1)
        return_save(
            plan=plan,
            quarter=quarter_find(plan, "2015-16-q1"),
            content={**found.content, "note": f"Revised {n}"},
            base_version=found.version,
            user=person("plymouth-admin" if n % 2 else "plymouth-finance"),
        )
    after = _queries(client, url)
    assert after == before, (before, after)


# ---- Words ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "slug, wrong",
    [
        ("rotherham", "plan is drafting."),  # not English: "is in Drafting"
        ("southampton", "health and wellbeing board"),  # the Board's name lower-cased
    ],
)
def test_a_plan_not_yet_submitted_is_described_in_plain_english(client, slug, wrong):
    plan = Plan.objects.select_related("area", "round").get(area__slug=slug)
    client.force_login(person(f"{slug}-reviewer"))
    assert wrong not in client.get(page(plan)).content.decode()
    assert wrong not in client.get(return_url(plan, "2014-15-q1")).content.decode()


def test_the_chair_who_confirmed_for_a_partner_is_not_offered_the_note_they_are_refused(client):
    """return_note refuses a chair who confirmed the return for a partner, but the page still
    shows them the 'Note the return for the Board' button and the dashboard asks them to note
    it; pressing it gives a bare 403 page."""
    from governance.constants import Role
    from governance.monitoring import return_confirm
    from tests.factories import member_make

    plan = plymouth()
    both = person("plymouth-finance")  # confirmed quarter 2 for the council in the demo
    member_make(plan.area, Role.HWB_CHAIR, user=both)
    q2 = QuarterlyReturn.objects.get(plan=plan, year="2015/16", quarter=2)
    ccg = plan.area.partners.get(kind="ccg")
    return_confirm(
        found=q2,
        organisation=ccg,
        user=person("plymouth-ccg-finance"),
        read_digest=return_digest(q2),
    )
    client.force_login(both)
    text = client.get(return_url(plan, "2015-16-q2")).content.decode()
    dashboard = client.get(reverse("dashboard")).content.decode()
    response = client.post(
        page(plan, "return_note", quarter="2015-16-q2"), {"digest": return_digest(q2)}
    )
    assert response.status_code != 403 or "Note the return for the Board" not in text
    assert "Note the Plymouth return for Quarter 2" not in dashboard


def test_an_under_spend_notice_does_not_call_for_a_joint_action_plan_as_an_over_spend_does(client):
    plan = plymouth()
    _q1_2014(plan, "3918000.00")  # £500,000 under
    client.force_login(person("plymouth-reviewer"))
    text = client.get(page(plan)).content.decode()
    section = text[text.index("A forecast under-spend of £500,000") :]
    section = section[: section.index("</section>")]
    # An under-spend is no cost to bear, and needs no joint action plan to recover it.
    assert "Bears" not in section
    assert "a joint action plan is needed" not in section


# ---- Races (last in the module: a transactional test empties the database after it) --------


def _together(*calls):
    import threading

    from django.db import connections

    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(n, call):
        try:
            barrier.wait()
            results[n] = ("ok", call())
        except Exception as error:  # noqa: BLE001 - what each racer met
            results[n] = ("error", error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n, c)) for n, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.django_db(transaction=True)
def test_races_two_first_saves_two_acknowledgements_and_a_save_against_a_confirmation():
    from governance.models import NoticeAcknowledgement
    from governance.monitoring import ReturnConflict, notice_acknowledge, return_confirm

    plan = plymouth()
    quarter = quarter_find(plan, "2015-16-q3")
    saves = _together(
        *(
            lambda name=name: return_save(
                plan=plan,
                quarter=quarter,
                content={"note": name},
                base_version=0,
                user=person(name),
            )
            for name in ("plymouth-finance", "plymouth-admin")
        )
    )
    kinds = sorted(type(r[1]).__name__ if r[0] == "error" else "saved" for r in saves)
    assert kinds == ["ReturnConflict", "saved"], saves
    assert isinstance(next(r[1] for r in saves if r[0] == "error"), ReturnConflict)
    assert QuarterlyReturn.objects.get(plan=plan, year="2015/16", quarter=3).version == 1

    notice = VarianceNotice.objects.get(plan=plan)
    ccg = plan.area.partners.get(kind="ccg")
    acks = _together(
        *(
            lambda name=name: notice_acknowledge(notice=notice, organisation=ccg, user=person(name))
            for name in ("plymouth-ccg-signatory", "plymouth-ccg-finance")
        )
    )
    assert all(r[0] == "ok" for r in acks), acks
    assert sorted(r[1][1] for r in acks) == [False, True]
    assert NoticeAcknowledgement.objects.filter(notice=notice, organisation=ccg).count() == 1

    q2 = QuarterlyReturn.objects.get(plan=plan, year="2015/16", quarter=2)
    digest = return_digest(q2)
    raced = _together(
        lambda: return_confirm(
            found=q2, organisation=ccg, user=person("plymouth-ccg-finance"), read_digest=digest
        ),
        lambda: return_save(
            plan=plan,
            quarter=quarter_find(plan, "2015-16-q2"),
            content={**q2.content, "note": "Changed"},
            base_version=q2.version,
            user=person("plymouth-finance"),
        ),
    )
    q2.refresh_from_db()
    standing = q2.signoffs.filter(withdrawn_at__isnull=True)
    # Whichever went first, no confirmation stands on the changed return.
    assert raced[1][0] == "ok", raced
    assert not standing.exists(), (raced, list(standing.values("version", "organisation")))
