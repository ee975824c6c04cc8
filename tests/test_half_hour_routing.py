"""Travel times of the half-hour territory (processes/half_hour/routing) against hand-computed
answers on a tiny network written in the test: a 5 x 5 street grid (100 m) with a motorway
diagonal and a long road east, a two-stop bus line and a connecting line in a tiny GTFS zip.
Then the demo generators: a GTFS that gtfs-kit reads and rates good, a pbf pyosmium reads.

The routing package is a pure library (no HTTP route, no store): the process that serves it
(half-hour-territory, tests/test_half_hour*.py) is tested over HTTP on both stores.
"""
from __future__ import annotations

import datetime as dt
import io
import zipfile

import numpy as np
import pytest
from pyproj import Transformer

from processes.half_hour.routing import csa, load_network, reach, streets

X0, Y0 = 650_000.0, 7_030_000.0      # Lambert-93, in the Artois
WALK = 4500.0 / 60.0                  # metres per minute
BIKE = 15000.0 / 60.0
ROAD = [400.0 + 500.0 * k for k in range(7)] + [3475.0] + [3975.0 + 500.0 * k for k in range(6)]
ROAD.sort()
B_X, B2_X, C_X = 3400.0, 3475.0, 6475.0   # stops on the road east (y = 0)
MONDAY, TUESDAY = dt.date(2026, 12, 7), dt.date(2026, 12, 8)


def _write_pbf(path):
    import osmium
    from osmium.osm.mutable import Node, Way
    to_wgs = Transformer.from_crs(2154, 4326, always_xy=True)
    nodes, ways = {}, []

    def node(x, y):
        key = (round(x, 3), round(y, 3))
        if key not in nodes:
            nodes[key] = len(nodes) + 1
        return nodes[key]

    for j in range(5):
        ways.append(([node(100.0 * i, 100.0 * j) for i in range(5)], {"highway": "residential"}))
        ways.append(([node(100.0 * j, 100.0 * i) for i in range(5)], {"highway": "residential"}))
    ways.append(([node(400.0, 0.0)] + [node(x, 0.0) for x in ROAD if x > 400.0],
                 {"highway": "unclassified", "name": "Route de l'est"}))
    ways.append(([node(0.0, 0.0), node(400.0, 400.0)], {"highway": "motorway"}))
    ways.append(([node(0.0, 400.0), node(400.0, 0.0)], {"highway": "footway"}))
    writer = osmium.SimpleWriter(str(path))
    for (x, y), nid in sorted(nodes.items(), key=lambda kv: kv[1]):
        lon, lat = to_wgs.transform(X0 + x, Y0 + y)
        writer.add_node(Node(id=nid, location=(lon, lat), tags={}))
    for wid, (refs, tags) in enumerate(ways, start=1):
        writer.add_way(Way(id=wid, nodes=refs, tags=tags))
    writer.close()
    return path


def _csv(rows: list[dict]) -> str:
    cols = list(rows[0])
    return "\n".join([",".join(cols)] + [",".join(str(r[c]) for c in cols) for r in rows]) + "\n"


def _write_gtfs(path):
    to_wgs = Transformer.from_crs(2154, 4326, always_xy=True)
    stops = []
    for sid, x in (("A", 0.0), ("B", B_X), ("B2", B2_X), ("C", C_X)):
        lon, lat = to_wgs.transform(X0 + x, Y0)
        stops.append({"stop_id": sid, "stop_name": sid, "stop_lat": round(lat, 8),
                      "stop_lon": round(lon, 8)})
    trips = [  # trip, route, service, [(stop, arrival, departure)]
        ("T1", "L1", "WK", [("A", "08:05:00", "08:05:00"), ("B", "08:15:00", "08:15:00")]),
        ("T2", "L1", "WK", [("A", "08:35:00", "08:35:00"), ("B", "08:45:00", "08:45:00")]),
        ("T3", "L2", "WK", [("B2", "08:20:00", "08:20:00"), ("C", "08:30:00", "08:30:00")]),
        # runs on Sundays only: never on the Monday of the tests
        ("T9", "L1", "SU", [("A", "08:01:00", "08:01:00"), ("B", "08:06:00", "08:06:00")]),
    ]
    files = {
        "agency.txt": _csv([{"agency_id": "AG", "agency_name": "Test", "agency_url":
                             "https://example.org", "agency_timezone": "Europe/Paris"}]),
        "stops.txt": _csv(stops),
        "routes.txt": _csv([{"route_id": r, "agency_id": "AG", "route_short_name": r,
                             "route_type": 3} for r in ("L1", "L2")]),
        "trips.txt": _csv([{"route_id": r, "service_id": s, "trip_id": t}
                           for t, r, s, _ in trips]),
        "stop_times.txt": _csv([{"trip_id": t, "arrival_time": a, "departure_time": d,
                                 "stop_id": sid, "stop_sequence": k + 1}
                                for t, _, _, st in trips for k, (sid, a, d) in enumerate(st)]),
        "calendar.txt": _csv([
            {"service_id": "WK", "monday": 1, "tuesday": 1, "wednesday": 1, "thursday": 1,
             "friday": 1, "saturday": 0, "sunday": 0, "start_date": "20260101",
             "end_date": "20261231"},
            {"service_id": "SU", "monday": 0, "tuesday": 0, "wednesday": 0, "thursday": 0,
             "friday": 0, "saturday": 0, "sunday": 1, "start_date": "20260101",
             "end_date": "20261231"}]),
        # the weekday service does not run on Tuesday 8 December (exception)
        "calendar_dates.txt": _csv([{"service_id": "WK", "date": "20261208",
                                     "exception_type": 2}]),
    }
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return path


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny")
    return _write_pbf(folder / "tiny.osm.pbf"), _write_gtfs(folder / "tiny.zip"), folder


def _net(tiny, date=MONDAY, exact=True):
    osm, feed, folder = tiny
    return load_network(date, osm=osm, gtfs_files=[feed], cache_dir=folder / "cache",
                        exact=exact)


def _p(*xy):
    return np.array([[X0 + x, Y0 + y] for x, y in xy])


def _dense(r):
    d = r.toarray()
    d[d == 0] = np.inf      # stored entries are > 0 (a zero time is stored as 1e-6)
    return d


# --------------------------------------------------------------------------- streets
def test_walk_times_on_the_grid(tiny):
    net = _net(tiny)
    origins = _p((0, 0), (100, 30))            # on a node; 30 m off node (1, 0)... snapped
    targets = _p((400, 400), (200, 0))
    r = reach(net, origins, targets, "walk", 15)
    d = _dense(r)
    # (0,0) -> (400,400): 800 m along the grid (no motorway diagonal, the footway
    # diagonal (0,400)-(400,0) does not help): 800 / 75 min
    assert d[0, 0] == pytest.approx(800 / WALK, abs=0.01)
    assert d[0, 1] == pytest.approx(200 / WALK, abs=0.01)
    # (100, 30) snaps to node (100, 0): 30 m + network
    assert d[1, 1] == pytest.approx((30 + 100) / WALK, abs=0.01)
    assert d[1, 0] == pytest.approx((30 + 700) / WALK, abs=0.01)
    # only stored within the budget: 5 minutes = 375 m
    r5 = reach(net, origins, targets, "walk", 5)
    assert r5[0, 1] == pytest.approx(200 / WALK, abs=0.01)
    assert r5[0, 0] == 0 and r5[1, 0] == 0
    assert (r5.data <= 5).all()


def test_bike_uses_no_motorway_nor_footway(tiny):
    net = _net(tiny)
    r = reach(net, _p((0, 0), (0, 400)), _p((400, 400), (400, 0)), "bike", 30)
    d = _dense(r)
    assert d[0, 0] == pytest.approx(800 / BIKE, abs=0.01)
    assert d[1, 1] == pytest.approx(800 / BIKE, abs=0.01)   # no footway diagonal for bikes
    walk = _dense(reach(net, _p((0, 400)), _p((400, 0)), "walk", 30))
    assert walk[0, 0] == pytest.approx(400 * np.sqrt(2) / WALK, abs=0.01)  # walkers take it


def test_scipy_and_igraph_engines_agree(tiny):
    g = _net(tiny).graph("walk")
    rng = np.random.default_rng(3)
    o = np.column_stack([X0 + rng.uniform(-50, 3000, 60), Y0 + rng.uniform(-50, 450, 60)])
    t = np.column_stack([X0 + rng.uniform(-50, 3000, 25), Y0 + rng.uniform(-50, 450, 25)])
    a = streets.street_times(g, o, t, 20, engine="scipy")
    b = streets.street_times(g, o, t, 20, engine="igraph")
    assert a.nnz > 50
    assert (a != b).nnz == 0 or np.allclose(a.toarray(), b.toarray())


@pytest.mark.parametrize("tags, walk, bike", [
    ({"highway": "residential"}, True, True),
    ({"highway": "motorway"}, False, False),
    ({"highway": "motorway_link"}, False, False),
    ({"highway": "trunk"}, True, True),
    ({"highway": "footway"}, True, False),
    ({"highway": "footway", "bicycle": "designated"}, True, True),
    ({"highway": "steps"}, True, False),
    ({"highway": "cycleway", "foot": "no"}, False, True),
    ({"highway": "service", "access": "private"}, False, False),
    ({"highway": "track", "access": "no", "foot": "yes"}, True, False),
    ({"highway": "primary", "bicycle": "no"}, True, False),
    ({"highway": "construction"}, False, False),
    ({"building": "yes"}, False, False),
])
def test_which_ways_each_mode_uses(tags, walk, bike):
    assert streets.mode_flags(tags) == (walk, bike)


def test_graph_cache_on_disk(tiny):
    osm, _feed, folder = tiny
    _net(tiny)
    cached = list((folder / "cache").glob("tiny.osm.pbf.*.graph.npz"))
    assert len(cached) == 1
    arrays = streets.load_arrays(osm, folder / "cache")
    assert len(arrays["x"]) == len(streets.read_pbf(osm)["x"])


# --------------------------------------------------------------------------- transit
def test_transit_window_median_and_best(tiny):
    net = _net(tiny)
    o, t = _p((0, 0)), _p((B_X, 0))
    # walking: 400 + 3000 m = 45.3 min, beyond 30
    assert reach(net, o, t, "walk", 30).nnz == 0
    window = (8 * 3600, 8 * 3600 + 1200)     # departures 8:00, 8:10, 8:20
    # 8:00 -> bus 8:05 -> B 8:15: 15 min; 8:10 -> 8:35 -> 8:45: 35; 8:20 -> 8:45: 25
    best = reach(net, o, t, "transit", 40, departure=window, statistic="best", step=600)
    med = reach(net, o, t, "transit", 40, departure=window, step=600)
    assert best[0, 0] == pytest.approx(15.0, abs=0.01)
    assert med[0, 0] == pytest.approx(25.0, abs=0.01)
    # the median over departures is what is stored: 35 > 30 only in one of three
    assert reach(net, o, t, "transit", 20, departure=window, step=600).nnz == 0
    # a window of one departure at 8:10: 35 min
    one = reach(net, o, t, "transit", 40, departure=(8 * 3600 + 600, 8 * 3600 + 600))
    assert one[0, 0] == pytest.approx(35.0, abs=0.01)


def test_transit_walk_access_and_egress(tiny):
    net = _net(tiny)
    # from grid node (100, 0): 100 m to stop A (1.33 min) -> bus 8:05 -> B 8:15,
    # then 75 m on foot to B2's point: 8:16 = 16 min after 8:00
    r = reach(net, _p((100, 0)), _p((B2_X, 0)), "transit", 30, departure=(8 * 3600, 8 * 3600))
    assert r[0, 0] == pytest.approx(15 + 75 / WALK, abs=0.01)


def test_transit_transfer(tiny):
    net = _net(tiny)
    # A 8:05 -> B 8:15, walk 75 m to B2 (1 min), L2 8:20 -> C 8:30: 30 min from 8:00
    r = reach(net, _p((0, 0)), _p((C_X, 0)), "transit", 40, departure=(8 * 3600, 8 * 3600))
    assert r[0, 0] == pytest.approx(30.0, abs=0.01)
    # leaving at 8:06 misses T1: next A 8:35, B 8:45, no L2 after: unreachable by 40 min
    late = reach(net, _p((0, 0)), _p((C_X, 0)), "transit", 40,
                 departure=(8 * 3600 + 360, 8 * 3600 + 360))
    assert late.nnz == 0


def test_trip_not_running_that_day(tiny):
    # Monday: the Sunday trip T9 (A 8:01 -> B 8:06) is not used: 15 min, not 6
    r = reach(_net(tiny), _p((0, 0)), _p((B_X, 0)), "transit", 40,
              departure=(8 * 3600, 8 * 3600))
    assert r[0, 0] == pytest.approx(15.0, abs=0.01)
    # Tuesday 8 December: the weekday service is removed (calendar_dates): nothing runs,
    # only walking (45 min) is left
    tue = _net(tiny, TUESDAY)
    assert len(tue.timetable.dep_time) == 0
    assert reach(tue, _p((0, 0)), _p((B_X, 0)), "transit", 40,
                 departure=(8 * 3600, 8 * 3600)).nnz == 0
    assert reach(tue, _p((0, 0)), _p((B_X, 0)), "transit", 50,
                 departure=(8 * 3600, 8 * 3600))[0, 0] == pytest.approx(3400 / WALK, abs=0.01)
    # by default a date stands for its period: Tuesday without service -> Wednesday's
    # timetable; Sunday 6 December -> Monday 7
    assert _net(tiny, TUESDAY, exact=False).date == dt.date(2026, 12, 9)
    assert _net(tiny, "2026-12-06", exact=False).date == MONDAY


def test_frequency_based_trips(tiny, tmp_path):
    # the same stops; one template trip A -> B (10 min) every 20 min from 08:00 to 09:00
    osm, feed, _ = tiny
    with zipfile.ZipFile(feed) as zf:
        base = {n: zf.read(n).decode() for n in ("agency.txt", "stops.txt", "routes.txt",
                                                 "calendar.txt")}
    base["trips.txt"] = "route_id,service_id,trip_id\nL1,WK,F1\n"
    base["stop_times.txt"] = ("trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
                              "F1,00:00:00,00:00:00,A,1\nF1,00:10:00,00:10:00,B,2\n")
    base["frequencies.txt"] = "trip_id,start_time,end_time,headway_secs,exact_times\n" \
        "F1,08:00:00,09:00:00,1200,1\n"
    path = tmp_path / "freq.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in base.items():
            zf.writestr(name, text)
    net = load_network(MONDAY, osm=osm, gtfs_files=[path], cache_dir=tmp_path / "c",
                       exact=True)
    assert sorted(set(net.timetable.dep_time.tolist())) == [8 * 3600, 8 * 3600 + 1200,
                                                            8 * 3600 + 2400]
    # leaving at 8:05: next run 8:20, at B 8:30: 25 min
    r = reach(net, _p((0, 0)), _p((B_X, 0)), "transit", 40,
              departure=(8 * 3600 + 300, 8 * 3600 + 300))
    assert r[0, 0] == pytest.approx(25.0, abs=0.01)


def test_transit_never_slower_than_walking(tiny):
    net = _net(tiny)
    rng = np.random.default_rng(5)
    o = np.column_stack([X0 + rng.uniform(0, 400, 30), Y0 + rng.uniform(0, 400, 30)])
    t = np.column_stack([X0 + rng.uniform(0, 4000, 20), Y0 + rng.uniform(0, 50, 20)])
    w = _dense(reach(net, o, t, "walk", 45))
    tr = _dense(reach(net, o, t, "transit", 45, departure=(8 * 3600, 9 * 3600)))
    assert (tr <= w + 1e-9).all()
    assert (tr < w - 1).any()          # the bus helps somewhere


@pytest.mark.parametrize("kwargs, message", [
    ({"mode": "car"}, "mode"), ({"minutes": -1}, "minutes"), ({"minutes": "x"}, "minutes"),
    ({"origins": [[1, 2, 3]]}, "origins"), ({"departure": (9 * 3600, 8 * 3600)}, "departure"),
    ({"statistic": "mean"}, "statistic"),
])
def test_bad_arguments_are_value_errors(tiny, kwargs, message):
    args = {"origins": _p((0, 0)), "targets": _p((100, 0)), "mode": "transit", "minutes": 10}
    args.update(kwargs)
    extra = {k: args.pop(k) for k in ("departure", "statistic") if k in args}
    with pytest.raises(ValueError, match=message):
        reach(_net(tiny), args["origins"], args["targets"], args["mode"], args["minutes"],
              **extra)


def test_empty_inputs(tiny):
    r = reach(_net(tiny), np.zeros((0, 2)), _p((0, 0)), "walk", 10)
    assert r.shape == (0, 1) and r.nnz == 0


# --------------------------------------------------------------------------- CSA alone
def test_csa_scan_transfer_and_staying_aboard():
    # stops 0..3; trip 0: 0 ->1 (100->200) ->2 (210->300); trip 1: 2 -> 3 (300 -> 400)
    # trip 2: 1 -> 3 (250 -> 500); footpath 1 -> 2 of 50 s
    dep_stop = np.array([0, 1, 1, 2])
    arr_stop = np.array([1, 3, 2, 3])
    dep_time = np.array([100, 250, 210, 300])
    arr_time = np.array([200, 500, 300, 400])
    trip = np.array([0, 2, 0, 1])
    order = np.argsort(dep_time, kind="stable")
    start = np.full((4, 2), np.inf, np.float32)
    start[0, 0] = 90          # origin 0 at stop 0 at 90 s
    start[1, 1] = 240         # origin 1 at stop 1 at 240 s
    fp = csa.Footpaths.from_pairs(4, np.array([1]), np.array([2]), np.array([50.0]))
    arr = csa.scan(dep_stop[order], arr_stop[order], dep_time[order], arr_time[order],
                   trip[order], start, 1000, fp)
    # origin 0: trip 0 to stop 1 at 200, stays aboard to 2 at 300, trip 1 to 3 at 400
    assert arr[:, 0].tolist() == [90, 200, 250, 400]  # stop 2 at 250 by the footpath
    # origin 1: at stop 1 at 240 (trip 0 left at 210): trip 2 to stop 3 at 500
    assert arr[:, 1].tolist() == [np.inf, 240, np.inf, 500]
    # an end time before 400 cuts the last connection
    cut = csa.scan(dep_stop[order], arr_stop[order], dep_time[order], arr_time[order],
                   trip[order], start, 350, fp)
    assert cut[3, 0] == np.inf


# --------------------------------------------------------------------------- demo data
@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from processes.half_hour.routing import demo_gtfs, demo_network
    folder = tmp_path_factory.mktemp("demo")
    return (demo_network.write_pbf(folder / "demo.osm.pbf"),
            demo_gtfs.write_feed(folder / "demo.zip"), folder)


def test_demo_pbf_is_read_by_pyosmium(demo):
    import osmium
    from processes.half_hour.routing.demo_network import artois_communes
    osm, _, _ = demo
    kinds, named, sources = {}, 0, set()
    for obj in osmium.FileProcessor(str(osm)).with_filter(osmium.filter.KeyFilter("highway")):
        if obj.is_way():
            kinds[obj.tags["highway"]] = kinds.get(obj.tags["highway"], 0) + 1
            named += "name" in obj.tags or "ref" in obj.tags
            sources.add(obj.tags.get("source", ""))
    assert {"residential", "unclassified", "motorway", "trunk", "primary"} <= set(kinds)
    assert named == sum(kinds.values())
    assert len(sources) == 1 and "démonstration" in sources.pop()
    arrays = streets.read_pbf(osm)
    walk = streets.build_mode_graph(arrays, "walk")
    assert len(walk.nodes) > 0.9 * len(arrays["x"])     # one connected network
    # every commune's centre is on the network (within its grid)
    com = artois_communes()
    _, dist = walk.snap(np.column_stack([com.representative_point().x,
                                         com.representative_point().y]))
    assert np.max(dist) < 30.0


def test_demo_network_is_deterministic(demo, tmp_path):
    from processes.half_hour.routing import demo_network
    osm, _, _ = demo
    again = demo_network.write_pbf(tmp_path / "again.osm.pbf")
    assert again.read_bytes() == osm.read_bytes()


def test_demo_gtfs_is_valid(demo):
    import gtfs_kit as gk
    _, feed_path, _ = demo
    feed = gk.read_feed(feed_path, dist_units="km")
    quality = dict(zip(gk.assess_quality(feed)["indicator"], gk.assess_quality(feed)["value"]))
    assert quality["assessment"] == "good feed"
    for table in ("agency", "stops", "routes", "trips", "stop_times", "calendar"):
        assert getattr(feed, table) is not None and len(getattr(feed, table))
    st = feed.stop_times
    assert set(st["stop_id"]) <= set(feed.stops["stop_id"])
    assert set(st["trip_id"]) == set(feed.trips["trip_id"])
    assert set(feed.trips["route_id"]) <= set(feed.routes["route_id"])
    assert set(feed.trips["service_id"]) <= set(feed.calendar["service_id"])
    secs = st["departure_time"].map(gk.timestr_to_seconds)
    st = st.assign(s=secs).sort_values(["trip_id", "stop_sequence"])
    assert (st.groupby("trip_id")["s"].diff().dropna() >= 0).all()
    assert {2, 3} <= set(feed.routes["route_type"])          # train and bus
    # T0 and now differ: more trips now, and lines that did not exist at T0
    t0, now = feed.get_trips("20220510"), feed.get_trips("20261208")
    assert len(now) > len(t0) > 0
    assert set(now["route_id"]) > set(t0["route_id"])
    assert len(feed.get_trips("20260501")) == 0                # 1 May: no service
    # the stops are those of the arrets-transport demo layer
    assert feed.stops["stop_id"].str.match(r"^(GARE|BUS)-").all()


def test_demo_network_reach_and_dates(demo):
    osm, feed, folder = demo
    t0 = load_network("2022-05-10", osm=osm, gtfs_files=[feed], cache_dir=folder / "c")
    now = load_network("2026-12-08", osm=osm, gtfs_files=[feed], cache_dir=folder / "c")
    assert len(now.timetable.dep_time) > len(t0.timetable.dep_time) > 0
    stops = now.timetable.stop_xy
    rng = np.random.default_rng(9)
    o = stops[rng.choice(len(stops), 200, replace=False)] + rng.normal(0, 100, (200, 2))
    t = stops[rng.choice(len(stops), 100, replace=False)]
    walk = reach(now, o, t, "walk", 30)
    bike = reach(now, o, t, "bike", 30)
    ride = reach(now, o, t, "transit", 30)
    assert bike.nnz > walk.nnz and ride.nnz > walk.nnz
    assert reach(t0, o, t, "transit", 30).nnz <= ride.nnz


def test_default_date_is_a_served_weekday(demo):
    osm, feed, folder = demo
    net = load_network(None, osm=osm, gtfs_files=[feed], cache_dir=folder / "c")
    assert net.date.weekday() < 5 and len(net.timetable.dep_time) > 0
    # 1 January (a Saturday in 2022, a holiday in 2026) stands for the next working day
    for asked, used in (("2022-01-01", dt.date(2022, 1, 3)), ("2026-01-01", dt.date(2026, 1, 2)),
                        ("2040-06-01", dt.date(2032, 12, 31))):
        net = load_network(asked, osm=osm, gtfs_files=[feed], cache_dir=folder / "c")
        assert net.date == used and len(net.timetable.dep_time) > 0


def test_demo_gtfs_zip_has_the_demo_label(demo):
    _, feed_path, _ = demo
    with zipfile.ZipFile(feed_path) as zf:
        info = zf.read("feed_info.txt").decode()
        agency = zf.read("agency.txt").decode()
    assert "DÉMONSTRATION" in info and "DÉMONSTRATION" in agency
    assert io.StringIO(info).readline().startswith("feed_publisher_name")
