import { PageLoading } from "~/components/ui/page-error";

/*
 * Shown at once while a dashboard page reads its data. The public pages have none: a loading boundary sends the 200
 * status before the page runs, so a missing model or docs page could no longer answer 404.
 */
export default PageLoading;
