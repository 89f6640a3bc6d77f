"""Panel construction as composable verbs (in the spirit of peacesciencer).

``country_year(study)`` and ``party_year(study)`` compose the verbs below;
each verb takes a `Panel` and returns a new one with columns added and
its own `StageAccount` appended, so a panel always carries the record
of what went into it and what was left out::

    panel = create_country_years(study).pipe(add_contact_counts, study)
            .pipe(add_country_covariates, study)
"""

from cpcstats.panels.build import (
    Panel,
    add_contact_counts,
    add_country_covariates,
    add_lags,
    add_party_attributes,
    add_party_contacts,
    add_party_status,
    country_facts,
    country_year,
    create_country_years,
    create_party_years,
    party_year,
    yearly_totals,
)

__all__ = [
    "Panel",
    "add_contact_counts",
    "add_country_covariates",
    "add_lags",
    "add_party_attributes",
    "add_party_contacts",
    "add_party_status",
    "country_facts",
    "country_year",
    "create_country_years",
    "create_party_years",
    "party_year",
    "yearly_totals",
]
