"""The repositories the service follows: one coordinator each, sharing one writer.

Built in the app's lifespan from ``repositories.each_repository``. One repository (the
single SYNCER_REPO or SYNCER_GIT_DIR) is the service as it always was; several (issue 15)
each get their own source, coordinator (queue, runs, head poll), branch and webhook secret,
while the writer, the delivery recorder and the scheduler are shared. The writer's one
thread takes the runs' file batches in the order they come, so a big initial sync of one
repository and a one-file push to another interleave batch by batch instead of waiting
for each other (docs/performance.md measures it).
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from starlette.requests import Request

from syncer import webhook
from syncer.config import Settings, each_repository
from syncer.errors import BadRequest, NotFound, Unauthorized
from syncer.sources import Source, build_source
from syncer.storage.writer import Writer
from syncer.sync.coordinator import Service
from syncer.sync.progress import RunObserver
from syncer.values import Secret


@dataclass
class Followed:
    services: list[Service]
    branches: list[str | None]  # the branch each one's pushes must name (None: default)

    @property
    def several(self) -> bool:
        return len(self.services) > 1

    def pairs(self) -> list[tuple[str | None, str | None]]:
        return [(s.settings.repo, b) for s, b in zip(self.services, self.branches, strict=True)]

    def secrets(self) -> list[Secret]:
        """The distinct webhook secrets, shared one first."""
        found: list[Secret] = []
        for service in self.services:
            secret = service.settings.webhook_secret
            if secret is not None and secret not in found:
                found.append(secret)
        return found

    def verify(self, body: bytes, signature: str | None) -> Secret:
        """The secret the delivery is signed with; Unauthorized when it is none of them."""
        failure: Unauthorized | None = None
        for secret in self.secrets():
            try:
                webhook.verify_signature(secret.reveal().encode("utf-8"), body, signature)
            except Unauthorized as exc:
                failure = failure or exc
                continue
            return secret
        raise failure or Unauthorized("no webhook secret is configured")

    def route(
        self, delivery: webhook.Delivery, signed_with: Secret
    ) -> tuple[Service, webhook.Decision]:
        """The service a delivery is for (the first when no repository matches: its
        delivery is recorded there as ignored) and what it asks."""
        index, decision = webhook.route(delivery, self.pairs())
        service = self.services[index if index is not None else 0]
        if index is not None and service.settings.webhook_secret != signed_with:
            # Signed with another repository's secret: the secret leaked or is mixed up.
            raise Unauthorized("signature does not match this repository's webhook secret")
        return service, decision

    def for_request(self, request: Request, *, required: bool = True) -> Service | None:
        """The service ``?repository=owner/name`` (or its ontology_id) names; the only one
        when there is one. None when several are followed, none is named and that is
        allowed (the summary of the status page); 400 when it is not."""
        if not self.several:
            return self.services[0]
        wanted = request.query_params.get("repository")
        if wanted is None:
            if required:
                names = ", ".join(s.oid for s in self.services)
                raise BadRequest(
                    f"several repositories are followed: add ?repository= one of {names}"
                )
            return None
        for service in self.services:
            repo = (service.settings.repo or "").lower()
            if wanted == service.oid or (
                wanted.lower() == repo and service.settings.branch is None
            ):
                return service
        for service in self.services:  # a name alone, for a repository followed on a branch
            if wanted.lower() == (service.settings.repo or "").lower():
                return service
        raise NotFound(f"no followed repository {wanted!r}")


async def start_followed(
    settings: Settings,
    writer: Writer,
    *,
    source: Source | None,
    sleep: Callable[[float], Awaitable[None]] | None,
    clock: Callable[[], float] | None,
    rng: random.Random | None,
    observer: RunObserver,
) -> Followed:
    """A coordinator per repository, started; ``source`` replaces the single repository's
    (tests)."""
    configs: Sequence[Settings] = each_repository(settings)
    services, branches = [], []
    for each in configs:
        repo = source if source is not None and len(configs) == 1 else build_source(each)
        # Pushes are matched against the branch the source reads: the configured one, else
        # a local repository's checked-out branch (not the payload's default branch, which
        # may be another: issue 14), else GitHub's default branch as each payload names it.
        branches.append(each.branch or await repo.followed_branch())
        service = Service(each, repo, writer, sleep=sleep, clock=clock, rng=rng, observer=observer)
        services.append(service)
    for service in services:
        await service.start()
    return Followed(services, branches)


async def stop_followed(followed: Followed) -> None:
    for service in followed.services:
        await service.stop()
        await service.source.aclose()
