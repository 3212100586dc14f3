"""No input gives a server error: every form of the app, posted with generated values.

Each test takes one form, builds what its page would post (from the form itself: the field
names are read from `form.fields` through `bound.html_name`, rows and management form
included, so a field added to a form is fuzzed without touching this file), then mutates it
with hypothesis: very long strings, unicode, NUL and control characters, line breaks, a leading
= + - @, numbers out of range or not numbers at all (1e999, NaN, 12.345), a list where one value
is expected, fields left out, management-form counts that lie, ids of other areas' objects and
seal digests that are wrong. Whatever is sent, the answer is one of ALLOWED, never a 500.

The people, areas and plans in every sign-off state are built once for the module, inside a
transaction rolled back at the end; every example runs in a savepoint of its own, rolled back
after it, so examples never see each other's saves. Emails and other side effects queued for
after the commit are run too: in production they run inside the request, so one that raises is
a server error.

ITF_FUZZ_EXAMPLES sets the number of examples per form (default 12), ITF_FUZZ_SHRINK=0 reports
a failing example without shrinking it (quicker when hunting with many examples); in CI (CI
set) the examples are derandomized so a run is repeatable.
"""

import contextlib
import io
import os
import reprlib
import traceback
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from types import SimpleNamespace

import pytest
from django import forms
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client, RequestFactory, TestCase, override_settings
from django.urls import resolve, reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from openpyxl.utils.exceptions import IllegalCharacterError

from finance.forms import AllocationForm, AllocationsUploadForm
from finance.models import QuarterlyReturn
from finance.monitoring_forms import PerformanceTermsForm, ReturnForm
from finance.services import performance_terms
from governance.constants import NATIONAL_ADMIN_GROUP, Role
from governance.forms import MemberAddForm
from governance.milestones import milestones_for
from governance.models import Membership
from governance.monitoring import figures_for, quarter_find, return_save, submitted_seal
from governance.permissions import has_area_perm, national_admin_group_sync
from governance.signoff import (
    plan_approve,
    plan_mark_submitted,
    plan_reopen,
    plan_submit_for_signoff,
    signature_add,
)
from governance.views import (
    ApproveForm,
    DeclineForm,
    MarkSubmittedForm,
    MilestonesForm,
    ReopenForm,
    SignForm,
    VerifyForm,
)
from itf_portal.forms import CommentForm, form_data, posted_bound_fields
from itf_portal.models import Email
from plans.exports.importer import import_pending, import_preview
from plans.exports.monitoring import return_export_xlsx
from plans.exports.service import plan_export_xlsx
from plans.forms import AreaForm, OrganisationForm
from plans.models import Comment, Organisation, Part
from plans.parts import row_page_form
from plans.registry import PART_BY_KEY
from plans.services import (
    area_save,
    comment_add,
    comment_resolve,
    plan_current_round,
    plan_open,
)
from plans.views.parts import AssignForm
from plans.views.rows import row_initial
from plans.views.workbooks import UploadForm
from tests.factories import (
    PASSWORD,
    OrganisationFactory,
    UserFactory,
    area_make,
    member_make,
    plan_make_ready,
)

pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")

ALLOWED = {200, 302, 400, 403, 404, 409}
EXAMPLES = int(os.environ.get("ITF_FUZZ_EXAMPLES", "12"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=bool(os.environ.get("CI")),
    database=None,
    print_blob=True,
    phases=[Phase.explicit, Phase.generate]
    + ([Phase.shrink] if os.environ.get("ITF_FUZZ_SHRINK", "1") == "1" else []),
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)
FAST_HASHING = ["django.contrib.auth.hashers.MD5PasswordHasher"]
REQUEST = RequestFactory().post("/", REMOTE_ADDR="10.0.0.9")
HUGE_IDS = ["0", "-1", "1.5", "1e3", str(2**31), str(2**63), str(10**30), "", "x", "١"]


# --- Values ---------------------------------------------------------------------------------

TEXT = st.text(max_size=40)  # any unicode but surrogates: NUL, controls, RTL marks included
LONG = st.builds(
    lambda piece, times: piece * times,
    st.sampled_from(["a", "é", "😀", "\x00", "9", "=1+1 ", "\n", "<b>"]),
    st.sampled_from([150, 201, 255, 256, 5001, 10_001, 100_001]),
)
CONTROL = st.text(
    alphabet=st.characters(categories=["Cc", "Cf", "Zl", "Zp"]), min_size=1, max_size=10
).map(lambda s: f"a{s}b")
WEIRD = st.sampled_from(
    [
        "a\nb",
        "a\r\nb",
        "\r",
        "Bcc: x@example.org\nSubject: hi",
        "x\x00y",
        "\x00",
        "\x1b[31m",
        "\u202e",
        "\ufeff",
        "\u2028",
        "'; DROP TABLE plans_area; --",
        "{{ 7|add:1 }}",
        "%s %(x)s {0}",
        "<script>alert(1)</script>",
        " ",
        "on",
        "true",
        "None",
        "null",
        "[]",
        "{}",
    ]
)
PREFIXED = st.builds(
    lambda sign, rest: sign + rest,
    st.sampled_from(["=", "+", "-", "@"]),
    st.sampled_from(["", "1+1", 'HYPERLINK("http://x")', "SUM(A1:A9)", "cmd|'/c calc'!A0"])
    | st.text(max_size=12),
)
NUMBERS = st.sampled_from(
    [
        "1e999",
        "-1e999",
        "1e-999",
        "NaN",
        "nan",
        "-NaN",
        "sNaN",
        "Infinity",
        "-Infinity",
        "inf",
        "12.345",
        "-1",
        "-0",
        "0",
        "0.001",
        "1E+2",
        "99999999999999999999",
        "1000000000.01",
        str(2**31),
        str(2**63),
        str(-(2**63) - 1),
        "1,234.50",
        "£1,000",
        "£-5",
        "(100)",
        "1 000",
        "١٢٣",
        "Ⅻ",
        "0x1F",
        "1_000",
        ".",
        "-",
        "+",
        "1e",
        "--1",
        "150",
        "100.001",
        "3.5%",
        "61",
        "1.0000000000000000000001",
    ]
) | st.one_of(
    st.integers().map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.floats().map(repr),
)
DATES = st.sampled_from(
    [
        "2014-02-31",
        "2014-13-01",
        "0000-00-00",
        "0001-01-01",
        "9999-12-31",
        "10000-01-01",
        "31/02/2014",
        "2014-2-3",
        "-2014-01-01",
        "2014-01-01T00:00",
        "99999999-01-01",
        "2099-01-01",
    ]
) | st.dates().map(str)
MANAGEMENT = st.sampled_from(
    ["-1", "0", "1", "2", "999", "1000", "1001", "2001", "1000000000", "text", "1.5", "", "1e9"]
)
GENERIC = st.one_of(TEXT, LONG, CONTROL, WEIRD, PREFIXED, NUMBERS, DATES, st.just(""))


def _choice_values(field) -> list[str]:
    values = []
    for value, label in field.choices:
        if isinstance(label, list | tuple):  # a group of choices
            values += [str(v) for v, _ in label]
        else:
            values.append(str(value))
    return values


def value_for(world, name: str, field: forms.Field):
    """What to post in one field: mostly values aimed at its kind, sometimes anything."""
    aimed = []
    if isinstance(field, forms.ChoiceField):
        if values := _choice_values(field):
            aimed.append(st.sampled_from(values))
        aimed.append(st.sampled_from(world.ids))
    if isinstance(field, forms.DateField):
        aimed.append(DATES)
    if isinstance(field, forms.IntegerField | forms.DecimalField) or "amount" in name:
        aimed.append(NUMBERS)
    if name.endswith("_FORMS"):
        aimed.append(MANAGEMENT)
    if "seal" in name:
        aimed.append(st.sampled_from(world.seals))
    if isinstance(field, forms.EmailField):
        aimed.append(st.sampled_from(world.emails))
    if isinstance(field.widget, forms.PasswordInput):
        aimed.append(st.sampled_from([PASSWORD, PASSWORD.lower(), PASSWORD + "\x00"]))
    if isinstance(field, forms.CharField) and field.max_length:
        limit = field.max_length
        aimed.append(st.sampled_from(["x" * limit, "x" * (limit + 1), "é" * limit]))
    return st.one_of(*aimed, GENERIC) if aimed else GENERIC


def typical(field: forms.Field):
    """A value a person would type in a field the page leaves empty (a password, a date)."""
    if isinstance(field.widget, forms.PasswordInput):
        return PASSWORD
    if isinstance(field, forms.DateField):
        return (timezone.localdate() - timedelta(days=1)).isoformat()
    if isinstance(field, forms.EmailField):
        return "someone.new@example.org"
    if isinstance(field, forms.ModelMultipleChoiceField):
        first = field.queryset.first()
        return [str(first.pk)] if first else None
    if isinstance(field, forms.ModelChoiceField):
        first = field.queryset.first()
        return str(first.pk) if first else None
    if isinstance(field, forms.ChoiceField):
        return next((v for v in _choice_values(field) if v), None)
    if isinstance(field, forms.IntegerField | forms.DecimalField):
        return "1"
    if isinstance(field, forms.BooleanField | forms.FileField | forms.SlugField):
        return None
    return "Chief Executive"


def posted_fields(form: forms.Form) -> dict[str, forms.Field]:
    """Every input the form's page posts, by its posted name: rows and management form too,
    and a row beyond the last (as "Add a row" would post)."""
    found = {bound.html_name: bound.field for bound in posted_bound_fields(form)}
    rows = getattr(form, "rows", None)
    if rows is not None:
        last = rows.forms[-1]
        for index in (len(rows.forms), 1500):
            for name, field in last.fields.items():
                found[f"{rows.add_prefix(index)}-{name}"] = field
    return found


def base_data(form: forms.Form) -> dict:
    """What the page posts as it is shown (`form_data`), with what a person types in the
    fields it shows empty."""
    data = form_data(form)
    rows = getattr(form, "rows", None)
    for name, field in posted_fields(form).items():
        in_rows = rows is not None and name.startswith(f"{rows.prefix}-")
        if name not in data and not in_rows and (value := typical(field)) is not None:
            data[name] = value
    return data


def mutated(draw, world, base: dict, fields: dict[str, forms.Field]) -> dict:
    """The page's post with some fields changed, left out, repeated; sometimes none at all."""
    data = {} if draw(st.integers(0, 15)) == 15 else dict(base)
    names = sorted(fields)
    if names:
        chosen = draw(st.lists(st.sampled_from(names), unique=True, max_size=min(6, len(names))))
        for name in chosen:
            how = draw(st.sampled_from(["value", "value", "value", "drop", "many"]))
            if how == "drop":
                data.pop(name, None)
            elif how == "many":
                data[name] = draw(
                    st.lists(value_for(world, name, fields[name]), min_size=2, max_size=3)
                )
            else:
                data[name] = draw(value_for(world, name, fields[name]))
    if draw(st.integers(0, 7)) == 7:
        key = draw(
            st.text(
                alphabet=st.characters(exclude_categories=["Cc", "Cs"], exclude_characters='"\\'),
                min_size=1,
                max_size=20,
            )
        )
        data[key] = draw(GENERIC)
    return data


def form_payload(draw, world, form: forms.Form) -> dict:
    return mutated(draw, world, base_data(form), posted_fields(form))


# --- Sending and checking -------------------------------------------------------------------


def _shown(data) -> str:
    return reprlib.Repr(maxstring=120, maxother=120, maxdict=60).repr(data)


def send(client, method: str, url: str, data=None, **extra):
    response = getattr(client, method)(url, data if data is not None else {}, **extra)
    event(f"{resolve(url.split('?')[0]).url_name}: {response.status_code}")
    if response.status_code not in ALLOWED:
        exc = getattr(response, "exc_info", None)
        trace = "".join(traceback.format_exception(*exc)) if exc else "(no exception recorded)"
        pytest.fail(
            f"{method.upper()} {url} answered {response.status_code}\n"
            f"data: {_shown(data)}\n{trace}",
            pytrace=False,
        )
    return response


class World(SimpleNamespace):
    def __repr__(self) -> str:
        return "<world>"


# --- The world ------------------------------------------------------------------------------


@dataclass(repr=False)
class Place:
    """An area, its plan and its people."""

    area: object
    plan: object
    admin: object
    commissioner: object
    finance: object
    reviewer: object
    chair: object
    signatories: dict

    @property
    def people(self) -> list:
        return [
            self.admin,
            self.commissioner,
            self.finance,
            self.reviewer,
            self.chair,
            *self.signatories.values(),
        ]

    def __repr__(self) -> str:
        return f"<{self.area.slug}, {self.plan.state}>"

    def reload(self):
        self.plan.refresh_from_db()
        return self.plan


def _place(name: str, round_, *, ready=True, ccg_count=2, area=None) -> Place:
    area = area or area_make(name, ccg_count=ccg_count)
    plan = plan_open(area=area, round=round_)
    place = Place(
        area=area,
        plan=plan,
        admin=member_make(area, Role.AREA_ADMIN),
        commissioner=member_make(area, Role.COMMISSIONER),
        finance=member_make(area, Role.FINANCE_LEAD),
        reviewer=member_make(area, Role.REVIEWER),
        chair=member_make(area, Role.HWB_CHAIR),
        signatories={},
    )
    if ready:
        plan_make_ready(plan, place.commissioner)
        place.signatories = {
            m.partnership.organisation_id: m.user
            for m in Membership.objects.filter(
                partnership__area=area, role=Role.SIGNATORY
            ).select_related("user", "partnership")
        }
    return place


def _sign_all(place: Place) -> None:
    for organisation in place.reload().partner_organisations:
        signature_add(
            plan=place.reload(),
            user=place.signatories[organisation.pk],
            organisation=organisation,
            password=PASSWORD,
            position="Accountable Officer",
            request=REQUEST,
        )


def _world() -> SimpleNamespace:
    national_admin_group_sync()
    round_ = plan_current_round()
    national = UserFactory(username="fuzz-national")
    national.groups.add(Group.objects.get(name=NATIONAL_ADMIN_GROUP))

    drafting = _place("Southampton", round_)
    # Awaiting sign-off on its second sealed version: a form can carry the first one's seal.
    awaiting = _place("Devon", round_)
    plan_submit_for_signoff(plan=awaiting.plan, user=awaiting.commissioner)
    plan_reopen(
        plan=awaiting.reload(),
        user=awaiting.admin,
        reason="A change",
        password=PASSWORD,
        request=REQUEST,
    )
    plan_submit_for_signoff(plan=awaiting.reload(), user=awaiting.commissioner)
    signed = _place("Walsall", round_)
    plan_submit_for_signoff(plan=signed.plan, user=signed.commissioner)
    _sign_all(signed)
    approved = _place("Plymouth", round_, ccg_count=1)
    plan_submit_for_signoff(plan=approved.plan, user=approved.commissioner)
    _sign_all(approved)
    plan_approve(
        plan=approved.reload(),
        user=approved.chair,
        password=PASSWORD,
        agreed_on=timezone.localdate() - timedelta(days=3),
        request=REQUEST,
    )
    submitted = _place("Kent", round_, ccg_count=1)
    plan_submit_for_signoff(plan=submitted.plan, user=submitted.commissioner)
    _sign_all(submitted)
    plan_approve(
        plan=submitted.reload(),
        user=submitted.chair,
        password=PASSWORD,
        agreed_on=timezone.localdate() - timedelta(days=3),
        request=REQUEST,
    )
    plan_mark_submitted(
        plan=submitted.reload(),
        user=submitted.admin,
        submitted_on=timezone.localdate() - timedelta(days=1),
    )
    # A quarterly return forecasting far over the pool, so its notice waits to be acknowledged.
    _, notice = return_save(
        plan=submitted.reload(),
        quarter=quarter_find(submitted.plan, "2014-15-q1"),
        content={"schemes": [{"position": 0, "forecast": "900000000"}]},
        base_version=0,
        user=submitted.finance,
    )
    assert notice is not None
    return_book, _ = return_export_xlsx(
        plan=submitted.reload(),
        quarter=quarter_find(submitted.plan, "2014-15-q1"),
        user=submitted.finance,
    )
    other = _place("Rotherham", round_, ready=False, ccg_count=1)
    # Names as people write them: a formula-like organisation, and (if the app takes it) an
    # area whose name holds a line break, which ends up in email subjects.
    council = OrganisationFactory(name='=HYPERLINK("http://x") Council')
    ccg = OrganisationFactory(name="NHS Wight CCG", kind="ccg")
    try:
        with transaction.atomic():
            odd_area = area_save(
                name="Isle of\nWight", slug="isle-of-wight", partners=[council, ccg]
            )
    except Exception:  # the app refuses such a name: the area keeps a plain one
        odd_area = area_save(name="Isle of Wight", slug="isle-of-wight", partners=[council, ccg])
    odd = _place("Isle of Wight", round_, ready=False, area=odd_area)
    places = [drafting, awaiting, signed, approved, submitted, other, odd]

    for place in (drafting, other):
        part = place.plan.parts.get(key="vision")
        comment_add(part=part, author=place.reviewer, text="Please say more.")
        done = comment_add(part=part, author=place.reviewer, text="Thanks.")
        comment_resolve(comment=done, user=place.admin, resolved=True)

    # A workbook exported from the drafting plan, and an import of it waiting for confirmation.
    workbook, _ = plan_export_xlsx(plan=drafting.plan, user=drafting.commissioner)
    book = load_workbook(io.BytesIO(workbook))
    sheet = book["Narrative"]
    for row in sheet.iter_rows():
        if row[0].value == "Governance":
            sheet.cell(row=row[0].row, column=2).value = "A joint board, imported."
    edited = io.BytesIO()
    book.save(edited)
    pending = [
        import_pending(
            plan=drafting.plan,
            user=who,
            preview=import_preview(plan=drafting.plan, user=who, data=edited.getvalue()),
            file_name="plan.xlsx",
        )
        for who in (drafting.commissioner, member_make(drafting.area, Role.COMMISSIONER))
    ]

    users = [national, *(person for place in places for person in place.people)]
    seals = list(
        dict.fromkeys(s.digest for place in places for s in place.plan.seals.order_by("number"))
    )
    some = seals[0]
    bad_seals = [
        some.upper(),
        " " + some,
        some[:-1],
        some + "0",
        "0" * 64,
        "g" * 64,
        "",
        some + "\x00",
        "x" * 65,
    ]
    ids = (
        sorted(
            {
                str(pk)
                for pk in [
                    *Organisation.objects.values_list("pk", flat=True),
                    *Membership.objects.values_list("pk", flat=True),
                    *Comment.objects.values_list("pk", flat=True),
                    *(u.pk for u in users),
                ]
            }
        )
        + HUGE_IDS
    )
    emails = [u.email for u in users[:6]] + [
        "someone.new@example.org",
        "SOMEONE.NEW@EXAMPLE.ORG",
        "a@b",
        "x" * 250 + "@example.org",
        "Ünïcode@exämple.org",
        'quote"d@example.org',
        "new\n@example.org",
        "a@b.c\x00",
    ]
    return World(
        round=round_,
        national=national,
        drafting=drafting,
        awaiting=awaiting,
        signed=signed,
        approved=approved,
        submitted=submitted,
        other=other,
        odd=odd,
        places=places,
        users=users,
        seals=seals + bad_seals,
        ids=ids,
        emails=emails,
        workbook=workbook,
        pending=pending,
        notice=notice,
        return_book=return_book,
    )


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Built once for the module, in a transaction that is rolled back when it ends."""
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=FAST_HASHING),
        transaction.atomic(),
    ):
        yield _world()
        transaction.set_rollback(True)


# --- Drawing a request ----------------------------------------------------------------------


def _one(draw, good: list, bad: list):
    """Mostly one of the good choices, sometimes one of the bad (hypothesis favours small
    numbers, so the rare branch is the largest)."""
    return draw(st.sampled_from(bad) if draw(st.integers(0, 4)) == 4 else st.sampled_from(good))


def _plan_url(name: str, place: Place, **kwargs) -> str:
    return reverse(
        name,
        kwargs={"slug": place.area.slug, "round_slug": place.plan.round.slug, **kwargs},
    )


def _seal(place: Place) -> str:
    seal = place.plan.seals.order_by("-number").first()
    return seal.digest if seal else ""


def part_form(w, draw, client, key):
    spec = PART_BY_KEY[key]
    place = _one(draw, [w.drafting], [w.awaiting, w.submitted, w.other])
    editor = next(u for u in place.people if has_area_perm(u, spec.edit_permission, place.area))
    user = _one(draw, [editor], [place.reviewer, w.other.admin, w.national])
    client.force_login(user)
    part = place.plan.parts.get(key=key)
    form = spec.page_form(
        plan=place.plan, content=part.content, version=part.version, status=part.status
    )
    data = form_payload(draw, w, form)
    if draw(st.integers(0, 5)) == 5:
        data["add_row"] = "1"
    send(client, "post", _plan_url("part", place, key=key), data)


def row_page(w, draw, client):
    """One row of a long table part (schemes, key risks) changed, added or removed on its own
    page, including for a row that is not there."""
    key = draw(st.sampled_from([s.key for s in PART_BY_KEY.values() if s.form.rows_apart]))
    spec = PART_BY_KEY[key]
    place = _one(draw, [w.drafting], [w.awaiting, w.other])
    editor = next(u for u in place.people if has_area_perm(u, spec.edit_permission, place.area))
    client.force_login(_one(draw, [editor], [place.reviewer, w.other.admin]))
    part = place.plan.parts.get(key=key)
    rows = spec.content.rows_shown(part.content)
    number = _one(draw, [None, *range(1, len(rows) + 1)], [0, len(rows) + 1, 2**40])
    form_class = row_page_form(spec.form.row_form)
    initial = row_initial(form_class, place.plan, part, rows, number)
    form = form_class(plan=place.plan, prefix="row", count=len(rows) + 1, initial=initial)
    if number is None:
        url, data = _plan_url("part_row_add", place, key=key), form_payload(draw, w, form)
    elif draw(st.booleans()):
        url = _plan_url("part_row_remove", place, key=key, number=number)
        data = mutated(draw, w, {"base_version": part.version, "was": initial["was"]}, {})
    else:
        url = _plan_url("part_row", place, key=key, number=number)
        data = form_payload(draw, w, form)
    send(client, "post", url, data)


def calculator(w, draw, client):
    client.force_login(_one(draw, [w.drafting.finance], [w.drafting.reviewer, w.national]))
    query = {
        "overspend": draw(st.one_of(NUMBERS, GENERIC)),
        "year": draw(st.one_of(NUMBERS, GENERIC)),
    }
    send(client, "get", _plan_url("part", w.drafting, key="arrangements"), query)


def risk_share(w, draw, client):
    """The calculator's own page, asked with the basis and shares typed on the arrangements
    page (not yet saved), as its script asks it."""
    client.force_login(_one(draw, [w.drafting.finance], [w.drafting.reviewer, w.national]))
    partners = [o.pk for o in w.drafting.plan.partner_organisations]
    query = {
        "overspend": draw(st.one_of(NUMBERS, GENERIC)),
        "year": draw(st.one_of(NUMBERS, GENERIC)),
        "risk_share_basis": draw(st.one_of(st.sampled_from(["agreed", "contributions"]), GENERIC)),
    }
    for pk in draw(st.lists(st.sampled_from([*partners, 0, "x"]), max_size=4)):
        query[f"share_{pk}"] = draw(st.one_of(NUMBERS, GENERIC))
    send(client, "get", _plan_url("risk_share", w.drafting), query)


def outbox(w, draw, client):
    client.force_login(_one(draw, [w.national], [w.drafting.admin]))
    failed = Email.objects.create(to=["a@example.org"], subject="Failed", body="", status="failed")
    chosen = draw(st.one_of(st.sampled_from([str(failed.pk), str(failed.pk + 1)]), GENERIC))
    send(client, "post", reverse("email_outbox"), {"email": chosen})


def quarterly_return(w, draw, client):
    """A quarter's return, as its page draws it, for a submitted plan or one not submitted,
    for a quarter of the plan or none."""
    place = _one(draw, [w.submitted], [w.drafting, w.other])
    client.force_login(_one(draw, [place.finance, place.admin], [place.reviewer, w.other.admin]))
    slug = _one(draw, ["2014-15-q1", "2015-16-q4"], ["2016-17-q1", "2015-16-q5", "x"])
    quarter = quarter_find(place.plan, slug)
    seal = submitted_seal(place.plan)
    if quarter is None or seal is None:
        data = mutated(draw, w, {"base_version": "0"}, {})
    else:
        found = QuarterlyReturn.objects.filter(
            plan=place.plan, year=quarter.year_label, quarter=quarter.quarter
        ).first()
        content, version = (found.content, found.version) if found else ({}, 0)
        figures = figures_for(seal, quarter.year_label, content)
        data = form_payload(draw, w, ReturnForm(figures=figures, content=content, version=version))
    send(client, "post", _plan_url("quarterly_return", place, quarter=slug), data)


def return_import(w, draw, client):
    """A quarter's workbook imported back, edited as a person might, damaged or not one."""
    place = w.submitted
    client.force_login(_one(draw, [place.finance], [place.reviewer, w.other.admin]))
    data = mutated(draw, w, {"import": "1"}, {})
    if draw(st.integers(0, 5)):
        data["workbook"] = _file(draw, draw(workbook_bytes(w.return_book)))
    slug = _one(draw, ["2014-15-q1"], ["2014-15-q2", "2015-16-q4"])
    send(client, "post", _plan_url("quarterly_return", place, quarter=slug), data)


def return_comment(w, draw, client):
    place = _one(draw, [w.submitted], [w.other])
    client.force_login(_one(draw, [place.reviewer, place.finance], [w.other.admin, w.national]))
    slug = _one(draw, ["2014-15-q1"], ["2014-15-q2", "x"])
    data = form_payload(draw, w, CommentForm())
    send(client, "post", _plan_url("return_comment", place, quarter=slug), data)


def performance_measures(w, draw, client):
    """How the national measures count, set on the Allocations page."""
    client.force_login(_one(draw, [w.national], [w.drafting.admin]))
    form = PerformanceTermsForm(terms=performance_terms(w.round))
    data = {**form_payload(draw, w, form), "terms": "1"}
    send(client, "post", reverse("allocations"), data)


def notice_ack(w, draw, client):
    """A partner's acknowledgement of a notice, by anyone, for any organisation."""
    place = w.submitted
    client.force_login(_one(draw, place.people, [w.other.admin, w.national]))
    pk = _one(draw, [w.notice.pk], [str(2**31), str(2**63), "0"])
    partners = [str(o.pk) for o in place.plan.partner_organisations]
    # Any id the address can carry (its converter takes digits only).
    others = [pk for pk in w.ids if pk.isascii() and pk.isdigit()]
    organisation = _one(draw, partners, [*others, str(2**63)])
    place = _one(draw, [place], [w.other])
    url = f"{_plan_url('monitoring', place)}notices/{pk}/acknowledge/{organisation}/"
    send(client, "post", url, mutated(draw, w, {}, {}))


def _signoff_form(w, draw, client, view, form_class, states):
    place = _one(draw, states, [w.drafting, w.other, w.submitted])
    organisations = place.plan.partner_organisations
    organisation_id = _one(
        draw,
        [o.pk for o in organisations],
        [o.pk for p in w.places for o in p.plan.partner_organisations] + [0, 2**31, 10**20],
    )
    signer = place.signatories.get(organisation_id) or place.admin
    user = _one(
        draw, [signer], [place.admin, place.chair, w.national, w.drafting.commissioner, signer]
    )
    client.force_login(user)
    form = form_class(prefix=f"{view}{organisation_id}", initial={"seal": _seal(place)})
    url = _plan_url(view, place, organisation_id=organisation_id)
    send(client, "post", url, form_payload(draw, w, form))


def sign(w, draw, client):
    _signoff_form(w, draw, client, "sign", SignForm, [w.awaiting])


def decline(w, draw, client):
    _signoff_form(w, draw, client, "decline", DeclineForm, [w.awaiting])


def _plan_move(w, draw, client, view, form, states, who):
    place = _one(draw, states, [w.drafting, w.other, *w.places])
    user = _one(draw, [who(place)], [place.admin, place.commissioner, w.national, w.other.admin])
    client.force_login(user)
    send(client, "post", _plan_url(view, place), form_payload(draw, w, form(place)))


def approve(w, draw, client):
    _plan_move(
        w,
        draw,
        client,
        "approve",
        lambda place: ApproveForm(initial={"seal": _seal(place)}),
        [w.signed],
        lambda place: place.chair,
    )


def mark_submitted(w, draw, client):
    _plan_move(
        w,
        draw,
        client,
        "mark_submitted",
        lambda place: MarkSubmittedForm(),
        [w.approved],
        lambda place: place.admin,
    )


def reopen(w, draw, client):
    _plan_move(
        w,
        draw,
        client,
        "reopen",
        lambda place: ReopenForm(),
        [w.awaiting, w.signed, w.approved, w.submitted],
        lambda place: place.admin,
    )


def submit_for_signoff(w, draw, client):
    place = _one(draw, [w.drafting], [w.awaiting, w.other])
    user = _one(draw, [place.commissioner, place.admin], [place.reviewer, w.other.admin])
    client.force_login(user)
    send(client, "post", _plan_url("readiness", place), mutated(draw, w, {}, {}))


def member_add(w, draw, client):
    place = _one(draw, [w.drafting, w.odd], [w.other, w.awaiting])
    user = _one(draw, [place.admin, w.national], [place.reviewer, w.other.admin])
    client.force_login(user)
    form = MemberAddForm(area=place.area)
    send(client, "post", reverse("member_add", args=[place.area.slug]), form_payload(draw, w, form))


def member_remove(w, draw, client):
    place = _one(draw, [w.drafting, w.awaiting, w.odd], [w.other])
    mine = list(
        Membership.objects.filter(partnership__area=place.area).values_list("pk", flat=True)
    )
    pk = _one(draw, mine, [int(i) for i in w.ids if i.isdigit() and int(i) < 2**31] + [2**40])
    user = _one(draw, [place.admin, w.national], [place.reviewer, w.other.admin])
    client.force_login(user)
    url = reverse("member_remove", args=[place.area.slug, pk])
    send(client, "post", url, mutated(draw, w, {}, {}))


def area_create(w, draw, client):
    client.force_login(_one(draw, [w.national], [w.drafting.admin]))
    send(client, "post", reverse("area_create"), form_payload(draw, w, AreaForm()))


def area_edit(w, draw, client):
    place = _one(draw, w.places, [w.drafting])
    client.force_login(_one(draw, [w.national], [place.admin]))
    form = AreaForm(initial=AreaForm.initial_for(place.area))
    slug = _one(draw, [place.area.slug], ["no-such-area"])
    send(client, "post", reverse("area_edit", args=[slug]), form_payload(draw, w, form))


def organisation_form(w, draw, client):
    client.force_login(_one(draw, [w.national], [w.drafting.admin]))
    pk = _one(draw, [None, *Organisation.objects.values_list("pk", flat=True)], [2**40])
    if pk is None:
        url, form = reverse("organisation_create"), OrganisationForm()
    else:
        organisation = Organisation.objects.filter(pk=pk).first()
        initial = {"name": organisation.name, "kind": organisation.kind} if organisation else None
        url, form = reverse("organisation_edit", args=[pk]), OrganisationForm(initial=initial)
    send(client, "post", url, form_payload(draw, w, form))


def allocation(w, draw, client):
    client.force_login(_one(draw, [w.national], [w.drafting.admin]))
    form = AllocationForm(years=w.round.year_labels)
    send(client, "post", reverse("allocations"), form_payload(draw, w, form))


CSV_CELL = st.one_of(
    GENERIC, NUMBERS, st.sampled_from(["southampton", "devon", "2014/15", "2015/16"])
)


@st.composite
def csv_text(draw) -> bytes:
    header = draw(
        st.sampled_from(
            [
                "area,year,minimum,performance_element",
                "\ufeffarea,year,minimum,performance_element",
                "area;year;minimum;performance_element",
                "area,year,minimum",
                "",
            ]
        )
        | TEXT
    )
    rows = draw(st.lists(st.lists(CSV_CELL, min_size=0, max_size=6).map(",".join), max_size=5))
    text = "\n".join([header, *rows])
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "latin-1"]))
    return text.encode(encoding, errors="replace")


FILE_NAMES = st.one_of(
    st.sampled_from(["plan.xlsx", "allocations.csv", "", ".xlsx", "a" * 300 + ".xlsx", "../../x"]),
    st.text(
        alphabet=st.characters(exclude_categories=["Cc", "Cs"], exclude_characters='"\\'),
        max_size=40,
    ),
)


def _file(draw, content: bytes):
    return SimpleUploadedFile(draw(FILE_NAMES) or "upload", content)


def allocations_upload(w, draw, client):
    client.force_login(_one(draw, [w.national], [w.drafting.admin]))
    fields = posted_fields(AllocationsUploadForm())
    data = mutated(draw, w, {"upload": "Upload"}, {})
    content = draw(st.one_of(csv_text(), st.binary(max_size=400)))
    for name in fields:  # the file input(s) of the upload form
        how = draw(st.sampled_from(["file", "file", "file", "two files", "text", "none"]))
        if how == "file":
            data[name] = _file(draw, content)
        elif how == "two files":
            data[name] = [_file(draw, content), _file(draw, b"area,year\n")]
        elif how == "text":
            data[name] = draw(GENERIC)
    send(client, "post", reverse("allocations"), data)


CELL_VALUE = st.one_of(
    GENERIC,
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.datetimes(),
    st.sampled_from(["=1/0", "=A1", "=NA()", "=SUM(B1:B3)", "#REF!", "Yes", "No", "H", "M", "L"]),
)


@st.composite
def workbook_bytes(draw, original: bytes) -> bytes:
    """The exported workbook with cells changed as a person might in a spreadsheet, or its
    bytes damaged, or not a workbook at all."""
    how = draw(st.sampled_from(["edit", "edit", "edit", "truncate", "flip", "bytes", "empty"]))
    if how == "bytes":
        return draw(st.binary(max_size=600))
    if how == "empty":
        return b""
    if how == "truncate":
        return original[: draw(st.integers(0, len(original)))]
    if how == "flip":
        at = draw(st.integers(0, len(original) - 1))
        return original[:at] + bytes([original[at] ^ 0xFF]) + original[at + 1 :]
    book = load_workbook(io.BytesIO(original))
    for _ in range(draw(st.integers(1, 4))):
        sheet = book[draw(st.sampled_from(book.sheetnames))]
        # Mostly a cell the reader reads (beside a label, or in a table), sometimes any cell.
        read = [
            (cell.row, cell.column + offset)
            for row in sheet.iter_rows()
            for cell in row
            if cell.value is not None
            for offset in (0, 1)
        ]
        if read and draw(st.integers(0, 4)) < 4:
            row, column = draw(st.sampled_from(read))
        else:
            row = draw(st.integers(1, max(sheet.max_row, 1) + 2))
            column = draw(st.integers(1, max(sheet.max_column, 2) + 1))
        value = draw(CELL_VALUE)
        if isinstance(value, str):
            value = value[:32767]  # the most a spreadsheet cell holds
        # openpyxl refuses some values (characters a workbook cannot hold), and a covered part
        # of a merged cell takes none (a spreadsheet gives no way to type there either).
        with contextlib.suppress(ValueError, TypeError, IllegalCharacterError, AttributeError):
            sheet.cell(row=row, column=column).value = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def import_upload(w, draw, client):
    place = _one(draw, [w.drafting], [w.awaiting, w.other])
    user = _one(
        draw, [place.commissioner, place.finance, place.admin], [place.reviewer, w.other.admin]
    )
    client.force_login(user)
    data = mutated(draw, w, {}, {})
    for name in posted_fields(UploadForm()):
        how = draw(st.sampled_from(["file", "file", "file", "file", "two files", "text", "none"]))
        if how in ("file", "two files"):
            upload = _file(draw, draw(workbook_bytes(w.workbook)))
            data[name] = upload if how == "file" else [upload, _file(draw, w.workbook)]
        elif how == "text":
            data[name] = draw(GENERIC)
    send(client, "post", _plan_url("plan_import", place), data)


def import_confirm(w, draw, client):
    pending = w.pending
    place = w.drafting
    user = _one(draw, [pending[0].user], [pending[1].user, place.reviewer, w.other.admin])
    client.force_login(user)
    pk = _one(draw, [pending[0].pk], [pending[1].pk, 2**31 - 1, 2**40])
    overwrite = st.sampled_from([*PART_BY_KEY, *list(pending[0].parts)]) | GENERIC
    data = mutated(draw, w, {}, {})
    if draw(st.booleans()):
        data["overwrite"] = draw(st.lists(overwrite, max_size=4))
    send(
        client,
        "post",
        _plan_url("plan_import_preview", _one(draw, [place], [w.other]), pk=pk),
        data,
    )


def _part_place(w, draw):
    place = _one(draw, [w.drafting], [w.awaiting, w.other])
    key = _one(draw, ["vision", *PART_BY_KEY], ["no-such-part", "rows", "_"])
    return place, key


def comment_form(w, draw, client):
    place, key = _part_place(w, draw)
    user = _one(draw, [place.reviewer, place.commissioner], [w.other.admin, w.national])
    client.force_login(user)
    url = _plan_url("comment_add", place, key=key)
    send(client, "post", url, form_payload(draw, w, CommentForm()))


def comment_resolve_form(w, draw, client):
    place, key = _part_place(w, draw)
    user = _one(draw, [place.reviewer, place.admin], [w.other.admin, w.national])
    client.force_login(user)
    pk = _one(draw, list(Comment.objects.values_list("pk", flat=True)), [2**31 - 1, 2**40])
    view = draw(st.sampled_from(["comment_resolve", "comment_reopen"]))
    back = {"comments_page": draw(st.one_of(st.text(max_size=20), st.integers(0, 2**70).map(str)))}
    send(client, "post", _plan_url(view, place, key=key, pk=pk), mutated(draw, w, back, {}))


def paged_list(w, draw, client):
    """A part's history or its comments at any page a person (or a link) may ask for."""
    place, key = _part_place(w, draw)
    client.force_login(_one(draw, [place.reviewer, place.commissioner], [w.other.admin]))
    view = draw(st.sampled_from(["part_history", "part_comments"]))
    page = draw(st.one_of(st.integers(-(2**70), 2**70).map(str), st.text(max_size=30)))
    send(client, "get", _plan_url(view, place, key=key), {"page": page})


def assign(w, draw, client):
    place, key = _part_place(w, draw)
    user = _one(draw, [place.admin, w.national], [place.reviewer, w.other.admin])
    client.force_login(user)
    # The form's fields for a part that exists; the key posted to may be any.
    form = AssignForm(plan=place.plan, spec=PART_BY_KEY.get(key, PART_BY_KEY["vision"]))
    send(client, "post", _plan_url("part_assign", place, key=key), form_payload(draw, w, form))


def presence(w, draw, client):
    place, key = _part_place(w, draw)
    user = _one(draw, place.people, [w.other.admin, w.national])
    client.force_login(user)
    send(client, "post", _plan_url("part_presence", place, key=key), mutated(draw, w, {}, {}))


def restore(w, draw, client):
    place, key = _part_place(w, draw)
    editor = _one(draw, [place.commissioner, place.finance], [place.reviewer, w.other.admin])
    client.force_login(editor)
    part = Part.objects.filter(plan=place.plan, key=key).first()
    mine = list(part.history.values_list("history_id", flat=True)) if part else []
    others = list(Part.history.values_list("history_id", flat=True)[:20])
    history_id = _one(draw, mine or others, [*others, 2**31 - 1, 2**40])
    base = {"base_version": str(part.version) if part else "0"}
    fields = {"base_version": forms.IntegerField()}
    data = mutated(draw, w, base, fields)
    send(client, "post", _plan_url("part_restore", place, key=key, history_id=history_id), data)


def milestones(w, draw, client):
    place = _one(draw, [w.drafting, w.submitted], [w.other])
    user = _one(draw, [place.admin, w.national], [place.reviewer, w.other.admin])
    client.force_login(user)
    form = MilestonesForm(milestones=milestones_for(place.plan))
    send(client, "post", _plan_url("milestones", place), form_payload(draw, w, form))


def verify(w, draw, client):
    client.force_login(draw(st.sampled_from(w.users)))
    form = VerifyForm(initial={"seal": draw(st.sampled_from(w.seals))})
    send(client, "get", reverse("verify"), form_payload(draw, w, form))


def _auth_form(name: str, *args, **kwargs):
    """The form a django.contrib.auth page uses, read from the view itself."""
    return resolve(reverse(name, kwargs=kwargs)).func.view_class.form_class(*args)


def sign_in(w, draw, client):
    form = _auth_form("login")
    user = draw(st.sampled_from(w.users))
    data = mutated(draw, w, {"username": user.username, "password": PASSWORD}, posted_fields(form))
    send(
        client,
        "post",
        reverse("login"),
        data,
        REMOTE_ADDR=draw(st.sampled_from(["10.1.1.1", "::1"])),
    )


def password_reset(w, draw, client):
    form = _auth_form("password_reset")
    base = {"email": draw(st.sampled_from(w.users)).email}
    send(client, "post", reverse("password_reset"), mutated(draw, w, base, posted_fields(form)))


def password_reset_confirm(w, draw, client):
    user = draw(st.sampled_from(w.users))
    uid = _one(draw, [urlsafe_base64_encode(force_bytes(user.pk))], ["MTIzNDU2Nzg5MA", "_", "AAAA"])
    token = _one(draw, [default_token_generator.make_token(user)], ["set-password", "x-y"])
    page = send(client, "get", reverse("password_reset_confirm", args=[uid, token]))
    url = page.get("Location") or reverse("password_reset_confirm", args=[uid, token])
    form = _auth_form("password_reset_confirm", user, uidb64=uid, token=token)
    base = {name: "Another-Horse-2015" for name in posted_fields(form)}
    send(client, "post", url, mutated(draw, w, base, posted_fields(form)))


def password_change(w, draw, client):
    user = draw(st.sampled_from(w.users))
    client.force_login(user)
    form = _auth_form("password_change", user)
    base = {name: "Another-Horse-2015" for name in posted_fields(form)}
    base["old_password"] = PASSWORD
    send(client, "post", reverse("password_change"), mutated(draw, w, base, posted_fields(form)))


TARGETS = [
    *(pytest.param(partial(part_form, key=key), id=f"part-{key}") for key in PART_BY_KEY),
    *(
        pytest.param(target, id=target.__name__)
        for target in [
            row_page,
            quarterly_return,
            return_import,
            return_comment,
            performance_measures,
            notice_ack,
            calculator,
            risk_share,
            outbox,
            sign,
            decline,
            approve,
            mark_submitted,
            reopen,
            submit_for_signoff,
            member_add,
            member_remove,
            area_create,
            area_edit,
            organisation_form,
            allocation,
            allocations_upload,
            import_upload,
            import_confirm,
            comment_form,
            comment_resolve_form,
            paged_list,
            assign,
            presence,
            restore,
            milestones,
            verify,
            sign_in,
            password_reset,
            password_reset_confirm,
            password_change,
        ]
    ),
]


@pytest.mark.parametrize("target", TARGETS)
@FUZZ
@given(data=st.data())
def test_no_input_gives_a_server_error(world, db, target, data):
    with transaction.atomic():
        client = Client(raise_request_exception=False)
        with TestCase.captureOnCommitCallbacks() as callbacks:
            target(world, data.draw, client)
        # After the commit these run inside the request: one that raises is a server error.
        for callback in callbacks:
            try:
                callback()
            except Exception:
                pytest.fail(
                    "a side effect queued for the commit raised:\n" + traceback.format_exc(),
                    pytrace=False,
                )
        transaction.set_rollback(True)
