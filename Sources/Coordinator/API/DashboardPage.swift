enum DashboardPage {
    static let html = "<!doctype html><title>Flotilla</title>"
}
