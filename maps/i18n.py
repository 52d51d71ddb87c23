"""Labels of the maps in Chinese (``zh``, the default) and English (``en``)."""
from __future__ import annotations

import datetime as dt

LANGS: tuple[str, ...] = ("zh", "en")

LABELS: dict[str, dict[str, str]] = {
    "zh": {
        "grade": "等级",
        "grade_A": "A 重点客户",
        "grade_B": "B 普通客户",
        "grade_C": "C 小客户",
        "grade_D": "D 偶尔/潜在客户",
        "arrival": "到达",
        "visit": "拜访",
        "visits": "次拜访",
        "visit_length": "拜访时长",
        "opening_hours": "营业时间",
        "open_all_day": "工作时间内均可",
        "minutes": "分钟",
        "hours": "小时",
        "km": "公里",
        "stop": "站",
        "stops": "站点",
        "lunch": "午餐",
        "rep": "业务员",
        "reps": "业务员",
        "home": "出发/返回地点",
        "depart": "出发",
        "back": "返回",
        "inactive": "无效客户",
        "legend": "图例",
        "frequency": "拜访频次",
        "address": "地址",
        "customer": "客户",
        "customers": "客户",
        "unassigned": "未安排的拜访",
        "not_assigned": "未分配",
        "reason": "原因",
        "territory": "区域",
        "day": "日期",
        "days": "天",
        "route": "路线",
        "total": "合计",
        "distance": "里程",
        "work_time": "工作时长",
        "drive_time": "驾驶时长",
        "region_map": "区域地图",
        "day_maps": "每日路线图",
        "plan": "计划",
        "index_title": "拜访计划地图",
        "wait": "等待",
        "freq_week": "每周{n}次",
        "freq_weeks": "每{m}周{n}次",
    },
    "en": {
        "grade": "Grade",
        "grade_A": "A key account",
        "grade_B": "B regular",
        "grade_C": "C small",
        "grade_D": "D occasional / prospect",
        "arrival": "Arrival",
        "visit": "Visit",
        "visits": "visits",
        "visit_length": "Visit length",
        "opening_hours": "Opening hours",
        "open_all_day": "whole working day",
        "minutes": "min",
        "hours": "h",
        "km": "km",
        "stop": "Stop",
        "stops": "Stops",
        "lunch": "Lunch",
        "rep": "Rep",
        "reps": "Reps",
        "home": "Start / end",
        "depart": "Depart",
        "back": "Back",
        "inactive": "Inactive",
        "legend": "Legend",
        "frequency": "Frequency",
        "address": "Address",
        "customer": "Customer",
        "customers": "Customers",
        "unassigned": "Unplanned visits",
        "not_assigned": "Not assigned",
        "reason": "Reason",
        "territory": "territory",
        "day": "Date",
        "days": "days",
        "route": "Route",
        "total": "Total",
        "distance": "Distance",
        "work_time": "Working time",
        "drive_time": "Driving time",
        "region_map": "Region map",
        "day_maps": "Day maps",
        "plan": "Plan",
        "index_title": "Visit plan maps",
        "wait": "wait",
        "freq_week": "{n} per week",
        "freq_weeks": "{n} every {m} weeks",
    },
}

WEEKDAYS: dict[str, tuple[str, ...]] = {
    "zh": ("周一", "周二", "周三", "周四", "周五", "周六", "周日"),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}


def check_lang(lang: str) -> str:
    """Return ``lang`` if supported, else raise ValueError naming the supported languages."""
    if lang not in LABELS:
        raise ValueError(f"unsupported language {lang!r}; choose one of: {', '.join(LANGS)}")
    return lang


def t(key: str, lang: str = "zh") -> str:
    """The label ``key`` in ``lang`` (falls back to English, then to the key itself)."""
    return LABELS[check_lang(lang)].get(key) or LABELS["en"].get(key, key)


def grade_label(grade: str, lang: str = "zh") -> str:
    """``A 重点客户`` / ``A key account``; an unknown grade is shown as it is."""
    return LABELS[check_lang(lang)].get(f"grade_{grade}", grade)


def weekday_name(day: dt.date, lang: str = "zh") -> str:
    """Weekday of ``day`` in ``lang``: ``周一`` / ``Mon``."""
    return WEEKDAYS[check_lang(lang)][day.weekday()]


def frequency_label(visits: int, weeks: int, lang: str = "zh") -> str:
    """``每周2次`` / ``2 per week``; ``每2周1次`` / ``1 every 2 weeks``."""
    key = "freq_week" if weeks == 1 else "freq_weeks"
    return t(key, lang).format(n=visits, m=weeks)
