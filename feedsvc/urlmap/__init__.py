"""The map of the publication: every URL shape feedsvc serves or exports, written once.

Framework-free. The web layer declares its routes from RULES; pages, feeds, the export, the
writer's hub pings and the catalog build paths with the functions below; `all_paths`
(urlmap/paths.py) lists what a static export holds. Paths are site paths (`/feeds/atom.xml`);
`Site.absolute` makes them absolute. Which URLs a catalog change touches is answered by
`feedsvc.export.fingerprints`.
"""

from feedsvc.urlmap.fediverse import *  # noqa: F403
from feedsvc.urlmap.paths import *  # noqa: F403
from feedsvc.urlmap.publication import *  # noqa: F403
from feedsvc.urlmap.shapes import *  # noqa: F403
