"""The partner-site vocabulary: canonical columns and values, and the synonyms accepted for them.

Headers and values are compared after normalisation (:func:`value_key`: lower case, ``-``,
``_``, ``/`` and ``&`` as spaces, runs of spaces as one), so ``"Wi-Fi"``, ``"WIFI"`` and
``"wi fi"`` are the same word. A value that is neither a canonical value nor a listed
synonym is an error that lists the allowed values.

=====================  =============================================================
column                 accepted headers (besides the canonical name)
=====================  =============================================================
``name``               Site Name, Site, Organization, Organisation, Partner, Location Name
``site_type``          Type, Site Type, Category, Kind, Facility Type
``services``           Services, Services Offered, Offerings, Resources
``capacity_seats``     Seats, Capacity, Capacity (seats), Seating
``capacity_devices``   Devices, Device Count, Laptops, Chromebooks
``capacity_hotspots``  Hotspots, Hotspot Count
``hours``              Hours, Open Hours, Opening Hours, Schedule Hours
``wifi_radius_m``      Wi-Fi Radius (m), WiFi Radius, Coverage Radius, Radius m
``status``             Status, Partnership Status, Stage, Partner Status
``contact``            Contact, Contact Person, Contact Name, Email, Phone
``address``            Address, Street, Street Address
``lat`` / ``lon``      Latitude, Y / Longitude, Long, Lng, X
``route``              Route, Bus Route, Route Name (Wi-Fi bus stops share one)
``schedule``           Schedule, Stop Schedule, Stop Times, Times
=====================  =============================================================
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = [
    "HEADER_SYNONYMS",
    "SERVICES",
    "SERVICE_SYNONYMS",
    "SITE_TYPES",
    "SITE_TYPE_SYNONYMS",
    "STATUSES",
    "STATUS_SYNONYMS",
    "value_key",
]

SITE_TYPES = ("library", "school", "place_of_worship", "community_center", "health_center",
              "business", "public_housing", "hotspot", "wifi_bus_stop", "other")
SERVICES = ("public_wifi", "device_lending", "hotspot_lending", "computer_lab", "tutoring",
            "child_care", "digital_literacy", "device_repair")
STATUSES = ("inquiry", "vetted", "agreement_signed", "active", "ended")

HEADER_SYNONYMS: dict[str, tuple[str, ...]] = {
    "site_id": ("id", "site id", "partner id", "record id"),
    "name": ("site name", "site", "organization", "organisation", "partner", "partner name",
             "location name", "org name"),
    "site_type": ("type", "site type", "category", "kind", "facility type", "partner type"),
    "services": ("services offered", "offerings", "resources", "service"),
    "capacity_seats": ("seats", "capacity", "capacity seats", "seating"),
    "capacity_devices": ("devices", "device count", "laptops", "chromebooks", "capacity devices"),
    "capacity_hotspots": ("hotspots", "hotspot count", "capacity hotspots"),
    "hours": ("open hours", "opening hours", "schedule hours", "hours of operation"),
    "wifi_radius_m": ("wi fi radius m", "wifi radius", "wifi radius m", "coverage radius",
                      "coverage radius m", "radius m", "radius"),
    "status": ("partnership status", "stage", "partner status"),
    "contact": ("contact person", "contact name", "email", "phone", "contact info"),
    "address": ("street", "street address", "address line 1"),
    "city": ("town",),
    "state": ("st",),
    "zip": ("zip code", "zipcode", "postal code"),
    "lat": ("latitude", "y"),
    "lon": ("longitude", "long", "lng", "x"),
    "route": ("bus route", "route name"),
    "schedule": ("stop schedule", "stop times", "times"),
    "source": ("data source",),
    "illustrative": ("synthetic",),
}

SITE_TYPE_SYNONYMS: dict[str, tuple[str, ...]] = {
    "library": ("public library", "branch library", "library branch", "public_library"),
    "school": ("campus", "school campus", "school parking lot", "parking lot wifi",
               "parking lot", "isd"),
    "place_of_worship": ("church", "mosque", "synagogue", "temple", "place of worship",
                         "faith", "faith based", "congregation", "church learning center"),
    "community_center": ("community center", "community centre", "rec center",
                         "recreation center", "boys and girls club", "ymca", "community"),
    "health_center": ("health center", "clinic", "fqhc", "health center fqhc", "hospital",
                      "health"),
    "business": ("store", "restaurant", "cafe", "shop", "company", "retail"),
    "public_housing": ("public housing", "housing authority", "pha", "housing"),
    "hotspot": ("wifi hotspot", "wi fi hotspot", "traffic sign hotspot", "traffic sign",
                "mobile hotspot", "outdoor hotspot", "hot spot"),
    "wifi_bus_stop": ("wifi bus", "wi fi bus", "wifi bus stop", "wi fi bus stop", "bus stop",
                      "bus", "mobile wifi"),
    "other": ("shelter", "homeless shelter", "homeless shelter hic", "government", "park"),
}

SERVICE_SYNONYMS: dict[str, tuple[str, ...]] = {
    "public_wifi": ("wifi", "wi fi", "free wifi", "free wi fi", "public wifi", "public wi fi",
                    "internet", "internet access", "internet_access"),
    "device_lending": ("device lending", "laptop lending", "chromebook checkout",
                       "device loan", "devices", "laptop loan"),
    "hotspot_lending": ("hotspot lending", "hotspot checkout", "hotspot loan",
                        "hotspots to borrow"),
    "computer_lab": ("computer lab", "computers", "public computers", "pcs", "computer access"),
    "tutoring": ("homework help", "tutors"),
    "child_care": ("child care", "childcare", "daycare", "day care"),
    "digital_literacy": ("digital literacy", "digital literacy classes", "computer classes",
                         "tech classes", "computer training"),
    "device_repair": ("device repair", "repair", "computer repair", "tech support"),
}

STATUS_SYNONYMS: dict[str, tuple[str, ...]] = {
    "inquiry": ("enquiry", "prospect", "contacted", "interested", "lead", "new"),
    "vetted": ("approved", "screened", "background checked", "reviewed"),
    "agreement_signed": ("agreement signed", "mou signed", "mou", "signed", "contract signed",
                         "agreement"),
    "active": ("operating", "live", "open", "in service"),
    "ended": ("inactive", "closed", "terminated", "expired", "ended partnership"),
}


_PUNCT = re.compile(r"[-_/().,]+")
_SPACE = re.compile(r"\s+")


def value_key(value: object) -> str:
    """Return a value in comparable form.

    Examples
    --------
    >>> value_key(" Wi-Fi "), value_key("MOU_Signed"), value_key("Boys & Girls Club")
    ('wi fi', 'mou signed', 'boys and girls club')
    """
    return _text_key(str(value))


@lru_cache(maxsize=8192)
def _text_key(value: str) -> str:
    """Return the key of one text (cached: files repeat a few values)."""
    text = value.strip().lower().replace("&", " and ")
    text = _PUNCT.sub(" ", text)
    return _SPACE.sub(" ", text).strip()


def lookup(synonyms: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """Return value key -> canonical value for a synonym table (canonical names included).

    Examples
    --------
    >>> lookup(STATUS_SYNONYMS)["mou signed"]
    'agreement_signed'
    """
    table: dict[str, str] = {}
    for canonical, words in synonyms.items():
        table[value_key(canonical)] = canonical
        for word in words:
            table[value_key(word)] = canonical
    return table
