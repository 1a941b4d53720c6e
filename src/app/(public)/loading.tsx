import { PageLoading } from "~/components/ui/page-error";

export default PageLoading;
