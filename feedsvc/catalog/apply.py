"""Carrying out a plan in a write batch: minting the ids, slugs and dates it leaves open."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from feedsvc.articles.history import FileDates
from feedsvc.articles.text_format import Article, slug_for
from feedsvc.catalog.dating import Dating
from feedsvc.catalog.deployed import Adopted
from feedsvc.catalog.identity import entry_id
from feedsvc.catalog.ingest_plan import (
    Add,
    Change,
    Remove,
    Rename,
    Step,
    Stored,
    Touch,
    section_slug,
)
from feedsvc.catalog.records import image_columns
from feedsvc.catalog.times import format_time, next_second, parse_time, second_text
from feedsvc.catalog.writer import Batch, Values


def _unique_slug(title: str, key: str, taken: dict[str, str]) -> str:
    base = slug_for(title)
    slug, number = base, 1
    while taken.get(slug, key) != key:
        number += 1
        slug = f"{base}-{number}"
    taken[slug] = key
    return slug


class Apply:
    """Carry out a plan (see feedsvc.catalog.ingest_plan) in one batch, minting what it leaves open.

    New articles get an id from `identity` (or the one the deployed site gave them), and
    their dates from `dating` (see catalog/dating.py); what no source dates takes the next
    free second from `moment` on, in the order of the steps. Every date is a whole second
    that no other article holds (see catalog/times.py). A new title gets a free slug (`-2`,
    `-3`, ... on a clash) and the old one redirects to it.
    """

    def __init__(
        self, batch: Batch, moment: datetime, identity: str, dating: Dating | None = None
    ) -> None:
        self.batch = batch
        self.identity = identity
        self.dating = dating or Dating()
        self.stamp = format_time(moment)
        self._removal = second_text(moment)  # a withdrawal's date, also in whole seconds
        self._next = self._removal  # the first second this ingest may date a change by
        self._ticked: str | None = None  # the second _tick last gave (free in both dates)
        self._taken: dict[str, str] | None = None

    def _free_id(self, key: str) -> str:
        """Return the id for a new article of file `key`: the key's own, unless an article
        renamed away from that name keeps it, then `key~2`, `key~3`, …"""
        candidate, number = entry_id(self.identity, key), 1
        while self.batch.id_taken(candidate):
            number += 1
            candidate = entry_id(self.identity, f"{key}~{number}")
        return candidate

    def _adopted_id(self, adopted: Adopted | None) -> str | None:
        """Return the id the deployed site gave the article, unless another holds it."""
        if adopted is None or self.batch.id_taken(adopted.entry_id):
            return None
        return adopted.entry_id

    @property
    def taken(self) -> dict[str, str]:
        """Return the slugs in use, read on first need (a rescan with no change never needs it)."""
        if self._taken is None:
            self._taken = self.batch.taken_slugs()
        return self._taken

    def __call__(self, step: Step) -> None:
        """Write one step (rejected, unchanged and pending files write nothing)."""
        if isinstance(step, Add):
            adopted = self.dating.adopted(step.key)
            values = self._values(step.article, None, step.sig, edited=True)
            minted = self._adopted_id(adopted) or self._free_id(self.dating.first_key(step.key))
            self.batch.insert(values, minted)
            if adopted is not None:
                for old in adopted.old_slugs:
                    if self.taken.setdefault(old, step.key) == step.key and old != values.slug:
                        self.batch.keep_alias(old, step.key, values.slug)
        elif isinstance(step, Change):
            self._update(step.article, step.row, step.sig)
        elif isinstance(step, Rename):
            self.batch.rename(step.old.key, step.key)
            self._update(step.article, step.old, step.sig)
        elif isinstance(step, Touch):
            self.batch.set_file_sig(step.key, step.sig)
        elif isinstance(step, Remove):
            self.batch.remove(step.key, self._removal)

    def _update(self, article: Article, row: Stored, sig: str) -> None:
        edited = row.content_hash != article.content_hash
        values = self._values(article, row, sig, edited=edited)
        if values.slug != row.slug:
            self.batch.keep_alias(row.slug, article.key, values.slug)
        self.batch.update(values)

    def _values(self, article: Article, row: Stored | None, sig: str, *, edited: bool) -> Values:
        front = article.front
        if row is not None and row.title == article.title:
            slug = row.slug
        else:
            slug = self._slug(article, None if row else self.dating.adopted(article.key))
        if row is None:
            published, updated = self._new_dates(article)
        else:
            published = row.published
            if front.date:  # its stored second while the seconds it was pushed past stay held
                published = self._free(second_text(front.date), article.key, "published")
            updated = self._edited(article, row.updated) if edited else row.updated
            # An `updated` before `published` would be a lie.
            updated = self._free(max(updated, published), article.key, "updated")
        image, image_info = image_columns(article.image)
        return Values(
            key=article.key,
            slug=slug,
            section=article.section,
            section_slug=section_slug(article),
            title=article.title,
            paragraphs=article.paragraphs,
            content_hash=article.content_hash,
            published=published,
            updated=updated,
            author=front.author,
            tags=front.tags,
            summary=front.summary,
            image=image,
            image_info=image_info,
            file_sig=sig,
        )

    def _slug(self, article: Article, adopted: Adopted | None) -> str:
        """Return a free slug for a title: the deployed one where it still fits."""
        if adopted is not None and self.taken.get(adopted.slug, article.key) == article.key:
            base = slug_for(article.title)
            if adopted.slug == base or adopted.slug.removeprefix(base + "-").isdigit():
                self.taken[adopted.slug] = article.key
                return adopted.slug
        return _unique_slug(article.title, article.key, self.taken)

    def _tick(self, key: str, after: str | None = None) -> str:
        """Return the next second of this ingest that no article holds (later than `after`)."""
        wanted = self._next if after is None else max(self._next, next_second(after))
        second = self.batch.free_second(wanted, key)
        self._next = next_second(second)
        self._ticked = second
        return second

    def _free(self, wanted: str, key: str, column: Literal["published", "updated"]) -> str:
        """Return the first second from `wanted` on that no other article holds in `column`."""
        return self.batch.free_second(wanted, key, (column,))

    def _new_dates(self, article: Article) -> tuple[str, str]:
        """Return (published, updated) of an article the catalog does not hold yet, each a
        second no other article holds; one second for both when it was never edited."""
        self._ticked = None  # a second given to another article is held by it now
        published, updated = self._sourced(article)
        if updated <= published:
            if published == self._ticked:  # free in both when it was given: nothing since
                return published, published
            both = self.batch.free_second(published, article.key)
            return both, both
        published = self._free(published, article.key, "published")
        return published, self._free(max(updated, published), article.key, "updated")

    def _sourced(self, article: Article) -> tuple[str, str]:
        """Return the seconds the sources give a new article (ties not broken yet)."""
        front, key = article.front, article.key
        adopted = self.dating.adopted(key)
        dates: FileDates | None = None
        if front.date:
            published = second_text(front.date)
        elif adopted is not None:
            published = _normal(adopted.published)
        else:
            dates = self.dating.git(key)
            published = second_text(dates.published) if dates else self._tick(key)
        if front.updated:
            return published, second_text(front.updated)
        if adopted is not None and adopted.content_hash == article.content_hash:
            return published, _normal(adopted.updated)
        if dates is None and (adopted is not None or not front.date):
            dates = self.dating.git(key)
        if dates is not None and dates.updated is not None:
            return published, second_text(dates.updated)
        if adopted is not None or dates is not None:
            return published, self._tick(key)  # changed since it was deployed or committed
        return published, published

    def _edited(self, article: Article, before: str) -> str:
        """Return the `updated` of an edit: the commit's date if the history has the new
        content and it is later than the stored one, else the time it is seen."""
        if article.front.updated:
            return second_text(article.front.updated)
        dates = self.dating.git(article.key)
        if dates is not None and dates.updated is not None:
            committed = second_text(dates.updated)
            if committed > before:
                return committed
        # Never before what readers were shown: a front-matter `updated` taken away, or a
        # stored date ahead of this clock.
        return self._tick(article.key, after=before)


def _normal(text: str) -> str:
    """Return a date of the deployed record in the catalog's text form, in whole seconds (a
    record written before dates were whole seconds may hold fractions)."""
    return second_text(parse_time(text))
