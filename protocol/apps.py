"""Wire types of apps (hosted connectors) and the `app/list` method."""

from __future__ import annotations

from pydantic import Field

from protocol.base import WireModel
from protocol.fields import Omittable


class AppReview(WireModel):
    status: str


class AppScreenshot(WireModel):
    user_prompt: str
    file_id: str | None = None
    url: str | None = None


class AppMetadata(WireModel):
    categories: list[str] | None = None
    developer: str | None = None
    first_party_requires_install: bool | None = None
    review: AppReview | None = None
    screenshots: list[AppScreenshot] | None = None
    seo_description: str | None = None
    show_in_composer_when_unlinked: bool | None = None
    sub_categories: list[str] | None = None
    version: str | None = None
    version_id: str | None = None
    version_notes: str | None = None


class AppBranding(WireModel):
    is_discoverable_app: bool
    category: str | None = None
    developer: str | None = None
    privacy_policy: str | None = None
    terms_of_service: str | None = None
    website: str | None = None


class AppInfo(WireModel):
    id: str
    """The connector id."""
    name: str
    description: str | None = None
    app_metadata: AppMetadata | None = None
    branding: AppBranding | None = None
    distribution_channel: str | None = None
    icon_assets: dict[str, str] | None = None
    icon_dark_assets: dict[str, str] | None = None
    install_url: str | None = None
    is_accessible: bool = False
    is_enabled: bool = True
    labels: dict[str, str] | None = None
    logo_url: str | None = None
    logo_url_dark: str | None = None
    plugin_display_names: list[str] = Field(default_factory=list)


class AppsListParams(WireModel):
    cursor: str | None = None
    force_refetch: Omittable[bool] = None
    limit: int | None = Field(default=None, ge=0)
    """A page size; 0 is served as 1, as Codex does."""
    thread_id: str | None = None


class AppsListResponse(WireModel):
    data: list[AppInfo]
    next_cursor: str | None = None
