"""Every report table from a hand-made dozen referrals, against figures worked out by hand.

The expected numbers below were counted from the records by hand (see the
comments); they are not produced by the code under test.
"""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from cstracker.core.config import Settings
from cstracker.core.periods import parse_period, range_period
from cstracker.core.schema import CodeLists
from cstracker.report.data import frame_from_records
from cstracker.report.practice import normalise_context
from cstracker.report.tables import age_band, build_report
from tests.conftest import TODAY

D = dt.date
LISTS = CodeLists()


def rec(rid, received, team, mosaic, suitability, **more):
    r = {
        "referral_id": rid,
        "date_received": received,
        "referrer": "Pat Example",
        "referrer_team": team,
        "mosaic_id": mosaic,
        "suitability": suitability,
    }
    for key, value in more.items():
        if key == "themes":
            r.update({f"theme:{t}": True for t in value})
        elif key == "interventions":
            r.update({f"intervention:{i}": True for i in value})
        else:
            r[key] = value
    return r


def hand_records():
    """Thirteen synthetic referrals; TODAY is 27/11/2026, the follow-up period 42 days."""
    yp = {"gender": "Female", "ethnicity": "White - British", "legal_status": "Child in Need"}
    return [
        rec("CS-2026-0101", D(2026, 10, 1), "School", "9000001", "Suitable", decision_date=D(2026, 10, 3),
            consultation_date=D(2026, 10, 10), primary_concern="School", detail="St Aidan's High",
            themes=["CSE", "Gangs"], action_school="Meet the DSL about lunchtimes",
            interventions=["Peer-group mapping"], age=14, education="In school", **yp),
        rec("CS-2026-0102", D(2026, 10, 2), "Police", "9000002", "Suitable", decision_date=D(2026, 10, 2),
            consultation_date=D(2026, 10, 20), primary_concern="Neighbourhood", detail="Market Square",
            themes=["County Lines", "Drugs (selling)", "Gangs"],
            action_neighbourhood="Raise the square with community safety",
            interventions=["Linking to agencies", "Research support"], follow_up_date=D(2026, 11, 25),
            age=16, gender="Male", ethnicity="Black - African", legal_status="Child Protection Plan",
            education="NEET"),
        rec("CS-2026-0103", D(2026, 10, 5), "School", "9000003", "Not suitable", decision_date=D(2026, 10, 6),
            signposted_to="Early Help", age=13, education="In school", **yp),
        rec("CS-2026-0104", D(2026, 10, 7), "Police", "9000001", "Suitable", decision_date=D(2026, 10, 9),
            consultation_date=D(2026, 10, 21), primary_concern="School", detail="St. Aidans High",
            themes=["CSE", "Online"], action_individual="Mentoring referral",
            interventions=["Peer-group mapping"], age=14, education="In school", **yp),
        rec("CS-2026-0105", D(2026, 10, 12), "Health", "9000005", "Awaiting decision", age=15, gender="Male",
            ethnicity="Asian - Indian", legal_status="Not known", education="Not known"),
        rec("CS-2026-0106", D(2026, 10, 15), "School", "9000006", "Suitable", decision_date=D(2026, 10, 16),
            consultation_date=D(2026, 10, 30), primary_concern="Peer Group", detail="the Park Boys",
            themes=["Gangs", "CSE"], action_peer_group="Peer-group mapping with YJS",
            action_school="School to review staffing", age=17, gender="Male",
            ethnicity="Mixed - White and Black Caribbean", legal_status="Looked After (care order)",
            education="Excluded", interventions=["Peer group interventions", "Peer-group mapping"]),
        rec("CS-2026-0107", D(2026, 10, 20), "Police", "9000007", "Suitable", decision_date=D(2026, 10, 22),
            consultation_date=D(2026, 12, 3), age=12, education="In school", **yp),
        rec("CS-2026-0108", D(2026, 10, 28), None, "9000008", "Suitable"),
        rec("CS-2026-0090", D(2026, 9, 10), "School", "9000009", "Suitable", decision_date=D(2026, 9, 11),
            consultation_date=D(2026, 9, 15), primary_concern="Neighbourhood", detail="Market Sq.",
            themes=["County Lines"], action_neighbourhood="Detached youth work", age=15),
        rec("CS-2026-0091", D(2026, 9, 20), "Police", "9000010", "Not suitable", decision_date=D(2026, 9, 21),
            signposted_to="MASH"),
        rec("CS-2025-0200", D(2025, 10, 8), "School", "9000011", "Suitable", decision_date=D(2025, 10, 9),
            consultation_date=D(2025, 10, 20), primary_concern="Individual", themes=["Mental Health (YP)"],
            action_individual="Key worker", follow_up_date=D(2025, 11, 30), age=15),
        rec("CS-2025-0150", D(2025, 8, 1), "Health", "9000006", "Not suitable", decision_date=D(2025, 8, 2),
            signposted_to="CAMHS"),
        rec("CS-2026-0050", D(2026, 8, 3), "School", "9000013", "Suitable", decision_date=D(2026, 8, 4),
            consultation_date=D(2026, 8, 25), primary_concern="School", detail="ST AIDAN'S HIGH",
            themes=["Online"], action_school="Safe routes plan", follow_up_date=D(2026, 10, 10), age=13),
    ]  # fmt: skip


def hand_frame():
    return frame_from_records(hand_records(), LISTS)


@pytest.fixture(scope="module")
def report():
    return build_report(hand_frame(), parse_period(month="2026-10"), LISTS, Settings(), TODAY)


def cells(table, rows=None, cols=None):
    frame = table.data
    if rows is not None:
        frame = frame.loc[rows]
    if cols is not None:
        frame = frame[cols]
    return {r: [None if _nan(v) else v for v in frame.loc[r].tolist()] for r in frame.index}


def _nan(v):
    return v is None or (isinstance(v, float) and math.isnan(v))


def test_summary_decisions_against_previous_and_last_year(report):
    t = report.table("summary_decisions")
    periods = ["Oct 2026", "Sep 2026", "Oct 2025"]
    assert list(t.data.columns) == [
        *periods,
        "Change since Sep 2026",
        "% change since Sep 2026",
        "Change since Oct 2025",
        "% change since Oct 2025",
    ]
    # October: 0101 0102 0104 0106 0107 0108 suitable, 0103 not, 0105 awaiting.
    # September: 0090 suitable, 0091 not. October 2025: 0200 suitable.
    # Change: 8 - 2 = +6 (+300%), 8 - 1 = +7 (+700%); Not suitable 1 - 1 = 0 (0%), 1 - 0 (no % of 0).
    assert cells(t, rows=["Referrals received", "Not suitable"], cols=list(t.data.columns)[3:]) == {
        "Referrals received": [6, 3.0, 7, 7.0],
        "Not suitable": [0, 0.0, 1, None],
    }
    assert cells(t, cols=periods) == {
        "Suitable": [6, 1, 1],
        "Not suitable": [1, 1, 0],
        "Awaiting decision": [1, 0, 0],
        "Not recorded": [0, 0, 0],
        "Referrals received": [8, 2, 1],
    }


def test_summary_activity_and_median(report):
    # Held in October: 0101 0102 0104 0106 (0107 is booked for December).
    # Follow-ups due in October: 0050 (25/08 + 42 = 06/10, done) and 0090 (15/09 + 42 = 27/10, not done).
    # Repeat: 0104 is 9000001 again (0101, six days earlier); 0106's earlier referral is over 12 months back.
    periods = ["Oct 2026", "Sep 2026", "Oct 2025"]
    assert cells(report.table("summary_activity"), cols=periods) == {
        "Consultations held": [4, 1, 1],
        "Follow-ups due": [2, 0, 0],
        "Follow-ups overdue": [1, 0, 0],
        "Repeat referrals (same Mosaic ID within 12 months)": [1, 0, 0],
    }
    # Days referral -> consultation in October: 9, 18, 14, 15 -> median 14.5, shown as 15 (a half day up);
    # September 5; Oct 2025 12. The change is in whole days (15 - 5, 15 - 12), with no % change.
    assert cells(report.table("summary_timeliness")) == {
        "Median days from referral to consultation": [15, 5, 12, 10, None, 3, None]
    }


def test_top_themes(report):
    # CSE: 0101 0104 0106; Gangs: 0101 0102 0106; County Lines, Drugs (selling), Online: one each.
    assert cells(report.table("summary_top_themes")) == {
        "CSE": [3, 0.75],
        "Gangs": [3, 0.75],
        "County Lines": [1, 0.25],
        "Drugs (selling)": [1, 0.25],
        "Online": [1, 0.25],
    }


def test_last_twelve_months(report):
    t = report.table("summary_months")
    assert list(t.data.index) == [f"{m:%b %Y}" for m in report.months]
    assert t.data.index[0] == "Nov 2025" and t.data.index[-1] == "Oct 2026"
    got = cells(t)
    assert got["Aug 2026"] == [1, 1] and got["Sep 2026"] == [2, 1] and got["Oct 2026"] == [8, 4]
    assert sum(v[0] for v in got.values()) == 11 and sum(v[1] for v in got.values()) == 6


def test_monthly_trend(report):
    t = report.table("monthly_trend")
    assert list(t.data.columns) == [
        "Individual", "Home", "Peer Group", "School", "Neighbourhood", "Not recorded", "Total",
    ]  # fmt: skip
    got = cells(t)
    assert got["Aug 2026"] == [0, 0, 0, 1, 0, 0, 1]
    assert got["Sep 2026"] == [0, 0, 0, 0, 1, 1, 2]
    assert got["Oct 2026"] == [0, 0, 1, 2, 1, 4, 8]
    assert got["Total"] == [0, 0, 1, 3, 2, 5, 11]
    assert got["Jan 2026"] == [0] * 7


def test_themes_per_month_and_shares(report):
    counts = cells(report.table("themes_counts"), cols=["Aug 2026", "Sep 2026", "Oct 2026", "Total"])
    assert counts["CSE"] == [0, 0, 3, 3]
    assert counts["Gangs"] == [0, 0, 3, 3]
    assert counts["County Lines"] == [0, 1, 1, 2]
    assert counts["Online"] == [1, 0, 1, 2]
    assert counts["Drugs (selling)"] == [0, 0, 1, 1]
    assert counts["HSB"] == [0, 0, 0, 0]
    held = cells(report.table("themes_held"), cols=["Jul 2026", "Aug 2026", "Sep 2026", "Oct 2026", "Total"])
    assert held == {"Consultations held": [0, 1, 1, 4, 6]}
    shares = cells(report.table("themes_shares"), cols=["Jul 2026", "Sep 2026", "Oct 2026", "Total"])
    assert shares["CSE"] == [None, 0.0, 0.75, 0.5]
    assert shares["County Lines"] == [None, 1.0, 0.25, pytest.approx(2 / 6)]


def test_cooccurrence(report):
    t = report.table("themes_cooccurrence")
    pick = ["CSE", "Gangs", "County Lines", "Drugs (selling)", "Online"]
    assert cells(t, rows=pick, cols=pick) == {
        "CSE": [3, 2, 0, 0, 1],
        "Gangs": [2, 3, 1, 1, 0],
        "County Lines": [0, 1, 1, 1, 0],
        "Drugs (selling)": [0, 1, 1, 1, 0],
        "Online": [1, 0, 0, 0, 1],
    }
    assert int(t.data.to_numpy().sum()) == 3 + 3 + 1 + 1 + 1 + 2 * (2 + 1 + 1 + 1 + 1)


def test_referrers(report):
    t = report.table("referrers")
    got = cells(t)
    assert got["School"] == [2, 1, 0, 0, 3, pytest.approx(2 / 3), "CSE (2), Gangs (2)"]
    assert got["Police"] == [3, 0, 0, 0, 3, 1.0, "County Lines (1), CSE (1), Drugs (selling) (1)"]
    assert got["Health"] == [0, 0, 1, 0, 1, None, ""]
    assert got["Not recorded"] == [1, 0, 0, 0, 1, 1.0, ""]
    assert got["Total"][:6] == [6, 1, 1, 0, 8, pytest.approx(6 / 7)]
    assert got["Housing"][:5] == [0, 0, 0, 0, 0]


def test_young_people(report):
    age = cells(report.table("young_age"))
    # columns: Individual Home Peer Group School Neighbourhood Not recorded Total
    assert age["13-14"] == [0, 0, 0, 2, 0, 1, 3]
    assert age["15-16"] == [0, 0, 0, 0, 1, 1, 2]
    assert age["17-18"] == [0, 0, 1, 0, 0, 0, 1]
    assert age["11-12"] == [0, 0, 0, 0, 0, 1, 1]
    assert age["Not recorded"] == [0, 0, 0, 0, 0, 1, 1]
    assert age["Total"] == [0, 0, 1, 2, 1, 4, 8]
    gender = cells(report.table("young_gender"))
    assert gender["Female"] == [0, 0, 0, 2, 0, 2, 4]
    assert gender["Male"] == [0, 0, 1, 0, 1, 1, 3]
    assert gender["Not recorded"] == [0, 0, 0, 0, 0, 1, 1]
    education = cells(report.table("young_education"))
    assert education["In school"] == [0, 0, 0, 2, 0, 2, 4]
    assert education["NEET"] == [0, 0, 0, 0, 1, 0, 1]
    assert education["Excluded"] == [0, 0, 1, 0, 0, 0, 1]
    assert education["Not known"] == [0, 0, 0, 0, 0, 1, 1]
    assert education["Not recorded"] == [0, 0, 0, 0, 0, 1, 1]
    ethnicity = cells(report.table("young_ethnicity"))
    assert ethnicity["White - British"][-1] == 4 and ethnicity["Black - African"][-1] == 1
    legal = cells(report.table("young_legal_status"))
    assert legal["Child in Need"] == [0, 0, 0, 2, 0, 2, 4]


def test_contexts_normalised_with_windows(report):
    t = report.table("contexts")
    assert t.internal
    # St Aidan's (0101, 0104: one young person in October; 0050 in August too), Market Square
    # (0102 in October, "Market Sq." 0090 in September), the Park Boys (0106).
    assert cells(t) == {
        "Market Square": ["Neighbourhood", 1, 2, 2, 1, ""],
        "St. Aidans High": ["School", 1, 2, 2, 2, ""],
        "the Park Boys": ["Peer Group", 1, 1, 1, 1, ""],
    }


def test_contexts_hotspot_flag():
    period = range_period(D(2026, 8, 1), D(2026, 10, 31))
    r = build_report(hand_frame(), period, LISTS, Settings(hotspot_threshold=2), TODAY)
    got = cells(r.table("contexts"), cols=["Young people in the period", "Hotspot"])
    assert got == {
        "Market Square": [2, "Hotspot"],
        "St. Aidans High": [2, "Hotspot"],
        "the Park Boys": [1, ""],
    }


def test_contexts_hotspot_building_up_over_months_is_flagged_as_such(report):
    # October alone: one young person at each place; with September and August, two.
    r = build_report(hand_frame(), report.period, LISTS, Settings(hotspot_threshold=2), TODAY)
    got = cells(r.table("contexts"), cols=["Young people in the period", "Hotspot"])
    assert got == {
        "Market Square": [1, "Hotspot (last 3 months)"],
        "St. Aidans High": [1, "Hotspot (last 3 months)"],
        "the Park Boys": [1, ""],
    }


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("St Aidan's High", "saint aidans high"),
        ("  ST. AIDAN'S   HIGH ", "saint aidans high"),
        ("Saint Aidans High", "saint aidans high"),
        ("Northgate Acad", "northgate academy"),
        ("Northgate Academy", "northgate academy"),
        ("The Park Boys", "park boys"),
        ("Station Rd shops", "station road shops"),
        ("High St", "high street"),
        ("Kingsway Est.", "kingsway estate"),
        ("Shops & flats", "shops and flats"),
        (None, ""),
    ],
)
def test_normalise_context(text, key):
    assert normalise_context(text) == key


def test_actions(report):
    # 0101 School with a school action; 0102 Neighbourhood with one; 0104 School with only an
    # individual action; 0106 Peer Group with peer-group and school actions.
    assert cells(report.table("actions_matched")) == {
        "Individual": [0, 0, 0],
        "Home": [0, 0, 0],
        "Peer Group": [1, 0, 1],
        "School": [1, 1, 2],
        "Neighbourhood": [1, 0, 1],
        "Total": [3, 1, 4],
    }
    assert cells(report.table("actions_agreed")) == {
        "Individual": [1],
        "Home": [0],
        "Peer Group": [1],
        "School": [2],
        "Neighbourhood": [1],
    }
    missing = report.table("actions_missing")
    assert missing.internal
    assert cells(missing) == {"CS-2026-0104": [D(2026, 10, 21), "School", 5]}
    interventions = cells(report.table("interventions"))
    assert interventions["Peer-group mapping"] == [3, 0.75]
    assert interventions["Peer group interventions"] == [1, 0.25]
    assert interventions["Research support"] == [1, 0.25]
    assert interventions["Linking to agencies"] == [1, 0.25]
    assert interventions["Parents work"] == [0, 0.0]


def test_timeliness(report):
    # Decisions in October: 2, 0, 1, 2, 1, 2 days. Consultations held: decision -> consultation
    # 7, 18, 12, 14; referral -> consultation 9, 18, 14, 15. Quartiles interpolate linearly, then are
    # rounded to whole days, a half up: 1.5 -> 2, 10.75 -> 11, 14.5 -> 15, 12.75 -> 13, 15.75 -> 16.
    assert cells(report.table("timeliness")) == {
        "Referral to decision": [6, 2, 1, 2],
        "Decision to consultation": [4, 13, 11, 15],
        "Referral to consultation": [4, 15, 13, 16],
    }


def test_overdue_follow_ups_by_referral_id(report):
    t = report.table("overdue")
    assert t.internal
    # 0090: due 27/10 (31 days late); 0101: due 21/11 (6 days). 0102 is done, the rest not yet due.
    assert cells(t) == {
        "CS-2026-0090": [D(2026, 9, 15), D(2026, 10, 27), 31, ""],
        "CS-2026-0101": [D(2026, 10, 10), D(2026, 11, 21), 6, ""],
    }


def test_data_quality(report):
    rules = cells(report.table("dq_rules"))
    assert rules == {
        "missing-decision-date / Decision date": ["Decision date", "warning", 1],
        "no-action-for-primary-concern / Actions: School": ["Actions: School", "warning", 1],
    }
    rows = report.table("dq_rows").data
    assert sorted(rows.index) == ["CS-2026-0104", "CS-2026-0108"]
    complete = cells(report.table("dq_completeness"))
    assert complete["Referral ID"] == [8, 0, 1.0]
    assert complete["Age"] == [7, 1, 0.875]
    assert complete["Decision date"] == [6, 2, 0.75]
    assert complete["Referrer team/service"] == [7, 1, 0.875]
    assert complete["Detail"] == [4, 4, 0.5]


def test_age_bands():
    assert [age_band(a) for a in (5, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 25, None)] == [
        "5-10", "5-10", "11-12", "11-12", "13-14", "13-14", "15-16", "15-16", "17-18", "17-18",
        "19-25", "19-25", "Not recorded",
    ]  # fmt: skip


def test_year_report_has_24_months_and_an_empty_tracker_works():
    r = build_report(hand_frame(), parse_period(year="2026"), LISTS, Settings(), TODAY)
    assert len(r.table("monthly_trend").data) == 25  # 24 months and the total
    assert r.table("summary_decisions").data.loc["Referrals received"].tolist()[:3] == [11, 2, 0]
    empty = build_report(
        frame_from_records([], LISTS), parse_period(month="2026-10"), LISTS, Settings(), TODAY
    )
    assert empty.table("summary_decisions").data.loc["Referrals received"].tolist() == [
        0,
        0,
        0,
        0,
        None,
        0,
        None,
    ]
    assert empty.table("contexts").data.empty and empty.table("overdue").data.empty
    assert isinstance(empty.table("monthly_trend").data, pd.DataFrame)


def test_a_detail_naming_several_places_counts_each_for_the_hotspots():
    records = hand_records()
    # 0102 (Market Square, October) also names Riverside Park and St Aidan's on new lines / after ;
    next(r for r in records if r["referral_id"] == "CS-2026-0102")["detail"] = (
        "Market Square; Riverside Park\nSt Aidan's High;"
    )
    # 0106 (the Park Boys, October) also names Riverside Park, twice: one young person counts once
    next(r for r in records if r["referral_id"] == "CS-2026-0106")["detail"] = (
        "the Park Boys ;Riverside Park\r\nriverside park"
    )
    period = range_period(D(2026, 8, 1), D(2026, 10, 31))
    r = build_report(frame_from_records(records, LISTS), period, LISTS, Settings(hotspot_threshold=2), TODAY)
    got = cells(
        r.table("contexts"), cols=["Young people in the period", "Consultations in the period", "Hotspot"]
    )
    assert got == {
        "Market Square": [2, 2, "Hotspot"],
        "Riverside Park": [2, 2, "Hotspot"],
        # 9000001 (0101, 0104), 9000013 (0050), 9000002 (0102); the spelling used most is shown
        "St Aidan's High": [3, 4, "Hotspot"],
        "the Park Boys": [1, 1, ""],
    }
    assert "separated by ; or a line break" in r.table("contexts").note


def test_new_referrer_teams_are_counted_under_their_own_name():
    records = hand_records()
    next(r for r in records if r["referral_id"] == "CS-2026-0103")["referrer_team"] = "Fire and Rescue"
    r = build_report(
        frame_from_records(records, LISTS), parse_period(month="2026-10"), LISTS, Settings(), TODAY
    )
    teams = r.table("referrers").data
    assert teams.loc["Fire and Rescue", "Referrals received"] == 1
    assert teams.loc["School", "Referrals received"] == 2  # 0101, 0106 (0103 moved to Fire and Rescue)


def test_data_quality_lists_what_the_rules_find_on_every_row():
    """The report checks only the rows the rules on whole columns may fault (``rules.rows_to_check``):
    the problems listed are those ``check_record`` finds on every row of the period."""
    import random

    from cstracker.core.rules import check_record
    from cstracker.report.practice import _records
    from cstracker.synthetic import synthetic_records

    rng = random.Random(3)
    records = synthetic_records(400, seed=9, start=D(2025, 11, 1), end=D(2026, 11, 20), today=TODAY)
    for r in records:  # every rule broken somewhere
        change = rng.randrange(12)
        if change == 0:
            r["decision_date"] = None
        elif change == 1:
            r["consultation_date"] = r["date_received"] - dt.timedelta(days=3)
        elif change == 2:
            r["follow_up_date"], r["consultation_date"] = D(2026, 11, 1), None
        elif change == 3:
            r["primary_concern"] = None
        elif change == 4:
            r["suitability"] = "Not suitable"
            r["signposted_to"] = None
        elif change == 5:
            r["theme:Other"] = True
        elif change == 6:
            r["known_since"] = D(1990, 1, 1)
        elif change == 7:
            r["date_received"] = TODAY + dt.timedelta(days=5)
        elif change == 8:
            r["mosaic_id"] = None
    frame = frame_from_records(records, LISTS)
    period = parse_period(year=2026)
    report = build_report(frame, period, LISTS, Settings(), TODAY)
    listed = report.table("dq_rows").data
    got = sorted(zip(listed.index, listed["Tracker row"], listed["Field"], listed["Problem"], strict=True))
    labels = {f.key: f.label for f in LISTS.fields()}
    sub = frame.loc[(frame["date_received"] >= "2026-01-01") & (frame["date_received"] <= "2026-12-31")]
    expected = sorted(
        (str(record.get("referral_id") or "(no ID)"), int(row), labels.get(f.field_key, ""), f.message)
        for record, row in zip(_records(sub), sub["_row"], strict=True)
        for f in check_record(record, LISTS, TODAY)
    )
    assert len(expected) > 100
    assert got == expected
