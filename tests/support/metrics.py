"""Scraping a Prometheus endpoint for real and reading what it exports."""

from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample


@dataclass(frozen=True)
class Scrape:
    samples: list[Sample]

    @property
    def names(self) -> set[str]:
        return {sample.name for sample in self.samples}

    def labelled(self, name: str) -> list[dict[str, str]]:
        """The label sets of the samples called `name`."""
        return [sample.labels for sample in self.samples if sample.name == name]

    def label_values(self) -> set[str]:
        return {value for sample in self.samples for value in sample.labels.values()}


async def scrape(url: str) -> Scrape:
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.get(url)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    families = text_string_to_metric_families(response.text)
    return Scrape([sample for family in families for sample in family.samples])
