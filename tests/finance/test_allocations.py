from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from finance.models import Allocation


def _load(tmp_path, text):
    path = tmp_path / "allocations.csv"
    path.write_text(text)
    call_command("load_allocations", str(path), stdout=open("/dev/null", "w"))  # noqa: SIM115


def test_allocations_are_loaded_from_csv(world, tmp_path):
    _load(
        tmp_path,
        "area,year,minimum,performance_element\n"
        'southampton,2015/16,"17,285,000","4,321,250"\n'
        "rotherham,2014/15,£10000000,0\n",
    )
    southampton = Allocation.objects.get(area=world.area)
    assert (southampton.year, southampton.minimum) == (2015, Decimal("17285000.00"))
    assert southampton.performance_element == Decimal("4321250.00")
    _load(tmp_path, "area,year,minimum,performance_element\nsouthampton,2015/16,1,0\n")
    assert Allocation.objects.get(area=world.area).minimum == Decimal("1.00")
    assert Allocation.objects.count() == 2


@pytest.mark.parametrize(
    "line,message",
    [
        ("nowhere,2015/16,1,0", "no area with the short name"),
        ("southampton,2016/17,1,0", "year must be one of 2014/15, 2015/16"),
        ("southampton,2015/16,-1,0", "minimum: Enter an amount of 0 or more"),
        ("southampton,2015/16,10,20", "cannot be more than the minimum"),
        ("southampton,2015/16,ten,0", "minimum: Enter an amount in pounds"),
        ("southampton,2015/16,,0", "minimum: enter an amount"),
    ],
)
def test_one_bad_row_saves_nothing_and_is_named(world, tmp_path, line, message):
    text = f"area,year,minimum,performance_element\nrotherham,2014/15,5,0\n{line}\n"
    with pytest.raises(CommandError) as refusal:
        _load(tmp_path, text)
    assert "line 3" in str(refusal.value)
    assert message in str(refusal.value)
    assert not Allocation.objects.exists()


def test_a_file_with_the_wrong_columns_is_refused(world, tmp_path):
    with pytest.raises(CommandError, match="first line must be the column names"):
        _load(tmp_path, "slug,amount\nsouthampton,5\n")
    assert not Allocation.objects.exists()


def test_a_national_admin_sets_an_allocation_in_the_app(client, world):
    client.force_login(world.national)
    data = {
        "area": world.area.pk,
        "year": "2015/16",
        "minimum": "12,000,000",
        "performance": "3,000,000",
    }
    assert client.post("/allocations/", data).status_code == 302
    allocation = Allocation.objects.get()
    assert (allocation.minimum, allocation.performance_element) == (
        Decimal("12000000"),
        Decimal("3000000"),
    )
    page = client.get("/areas/southampton/plans/itf-2014/parts/summary/").content.decode()
    assert "£1,500,000 at the start of the year" in page


@pytest.mark.parametrize(
    "data,message",
    [
        (
            {"minimum": "-1", "performance": "0"},
            "Minimum required value of the pooled budget: Enter an amount of 0 or more",
        ),
        ({"minimum": "", "performance": "0"}, "Minimum required value of the pooled budget: Enter"),
        ({"minimum": "10", "performance": "20"}, "cannot be more than the minimum"),
        ({"minimum": "10", "performance": "0", "year": "2019/20"}, "Select a valid choice"),
    ],
)
def test_a_bad_allocation_in_the_app_is_explained(client, world, data, message):
    client.force_login(world.national)
    response = client.post("/allocations/", {"area": world.area.pk, "year": "2015/16", **data})
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page
    assert "minimum:" not in page  # never named by its internal name
    assert not Allocation.objects.exists()


def test_an_uploaded_allocations_file_saves_all_or_nothing(client, world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(world.national)
    bad = SimpleUploadedFile(
        "a.csv",
        b"area,year,minimum,performance_element\nsouthampton,2015/16,5,0\nnowhere,2015/16,5,0\n",
    )
    response = client.post("/allocations/", {"file": bad, "upload": "1"})
    assert "line 3: no area with the short name" in response.content.decode()
    assert not Allocation.objects.exists()
    binary = SimpleUploadedFile("a.xlsx", b"PK\x03\x04\x00\xff\xfe")
    response = client.post("/allocations/", {"file": binary, "upload": "1"})
    assert "The file is not a CSV text file (UTF-8)." in response.content.decode()
    good = SimpleUploadedFile(
        "a.csv", b"area,year,minimum,performance_element\nsouthampton,2015/16,5,0\n"
    )
    assert client.post("/allocations/", {"file": good, "upload": "1"}).status_code == 302
    assert Allocation.objects.count() == 1


@pytest.mark.parametrize("who", ["admin", "reviewer"])
def test_only_national_admins_see_allocations(client, world, who):
    client.force_login(getattr(world, who))
    assert client.get("/allocations/").status_code == 403


def test_spaces_in_the_header_and_absurd_fields_are_handled(world, tmp_path):
    _load(tmp_path, "area, year, minimum, performance_element\nsouthampton,2015/16,5,0\n")
    assert Allocation.objects.count() == 1
    with pytest.raises(CommandError, match="not a readable CSV file"):
        _load(
            tmp_path, "area,year,minimum,performance_element\n" + "x" * 200_000 + ",2015/16,5,0\n"
        )


def test_loading_with_no_file_chosen_says_so(client, world):
    client.force_login(world.national)
    response = client.post("/allocations/", {"upload": "1"})
    assert "This field is required." in response.content.decode()
    assert not Allocation.objects.exists()
