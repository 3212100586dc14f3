"""Uploads are read no further than the largest file the portal accepts (a workbook of 5 MB),
so a huge upload never fills the disk; the view sees `request.upload_too_large`."""

from django.core.files.uploadhandler import FileUploadHandler, StopUpload

UPLOAD_LIMIT = 5 * 1024 * 1024


class SizeLimitedUploadHandler(FileUploadHandler):
    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > UPLOAD_LIMIT:
            self.request.upload_too_large = True
            # The rest of the body is read and dropped, so the person gets the page that says why.
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size):
        return None
